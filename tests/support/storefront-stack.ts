import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventually } from '@shop/kit/testing';
import { systemStack, type Stack } from './system.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Every process of the system with the demo data, plus the storefront's Vite dev server. */
export async function storefrontStack(): Promise<{ storefront: string; gateway: string; psp: string; stop(): Promise<void> }> {
  const stack: Stack = await systemStack({ DEMO_DATA: `${root}infra/demo/demo-data.json` });
  const port = stack.ports.web!;
  // The storefront's own Vite (its package pins the version), not the one vitest brings along.
  const local = `${root}client/node_modules/.bin/vite`;
  const vite = spawn(existsSync(local) ? local : `${root}node_modules/.bin/vite`, ['--port', String(port), '--strictPort', '--host', '127.0.0.1'], {
    cwd: `${root}client`,
    env: { ...stack.env, BROWSER: 'none' },
    stdio: 'ignore',
  });
  const storefront = `http://127.0.0.1:${port}`;
  const stop = async () => {
    vite.kill('SIGTERM');
    await stack.stop();
  };
  try {
    await eventually(async () => ((await fetch(storefront)).ok ? true : undefined), { timeoutMs: 60_000, intervalMs: 250 });
  } catch (error) {
    await stop();
    throw error;
  }
  return { storefront, gateway: stack.gatewayUrl, psp: stack.pspUrl, stop };
}
