import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { DEV_SECRETS } from '@shop/kit';
import { eventually } from '@shop/kit/testing';
// @ts-expect-error plain ESM module without types
import { processes, root } from '../../infra/scripts/processes.mjs';

/**
 * Every built process checks, at start, every secret it uses: in production a missing secret, a
 * published development default or a too short one stops it, with a message naming the variable.
 * DATABASE_URL points nowhere: the check must come before anything else is tried.
 */
const USES: Record<string, string[]> = {
  gateway: ['JWT_SECRET', 'INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN'],
  catalog: ['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN'],
  cart: ['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN'],
  inventory: ['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN'],
  fulfillment: ['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN'],
  order: ['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN', 'ADDRESS_ENCRYPTION_KEY'],
  payment: ['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN', 'PAYMENT_WEBHOOK_SECRET'],
  psp: ['PAYMENT_WEBHOOK_SECRET'],
};
const SECRETS = [...Object.keys(DEV_SECRETS), 'METRICS_TOKEN', 'ADDRESS_ENCRYPTION_OLD_KEYS'];
const strong = () => randomBytes(32).toString('base64');

const baseEnv = (): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SECRETS.includes(k)) env[k] = v;
  return {
    ...env,
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
    AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
    LOG_LEVEL: 'info',
  };
};

/** Runs one built process until it exits (bounded): its exit code and everything it printed. */
function run(script: string, name: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { cwd: root, env: { ...env, SERVICE_NAME: name }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Generous: under a loaded machine, loading a subgraph's modules alone can take many seconds.
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const built: { name: string; script: string }[] = processes();

describe('secrets fail closed at start (NODE_ENV=production)', { timeout: 120_000 }, () => {
  it('finds every process built', () => {
    expect(built.map((p) => p.name).sort()).toEqual(Object.keys(USES).sort());
  });

  it('refuses to start without its secrets, naming each', async () => {
    const results = await Promise.all(built.map((p) => run(p.script, p.name, baseEnv())));
    built.forEach((p, i) => {
      expect(results[i]!.code, `${p.name}: ${results[i]!.output}`).not.toBe(0);
      for (const variable of USES[p.name]!) expect(results[i]!.output, p.name).toMatch(new RegExp(`${variable} is not set`));
    });
  });

  it('refuses to start with the published development defaults, naming each', async () => {
    const env = { ...baseEnv(), ...DEV_SECRETS, METRICS_TOKEN: strong() };
    const results = await Promise.all(built.map((p) => run(p.script, p.name, env)));
    built.forEach((p, i) => {
      expect(results[i]!.code, `${p.name}: ${results[i]!.output}`).not.toBe(0);
      for (const variable of USES[p.name]!.filter((v) => v !== 'METRICS_TOKEN')) {
        expect(results[i]!.output, p.name).toMatch(new RegExp(`${variable} is the published development default`));
      }
    });
  });

  it('refuses a secret shorter than 32 characters, and two secrets that are the same', async () => {
    const gateway = built.find((p) => p.name === 'gateway')!;
    const short = await run(gateway.script, 'gateway', { ...baseEnv(), JWT_SECRET: 'short-secret', INTERNAL_IDENTITY_SECRET: strong(), METRICS_TOKEN: 'tiny' });
    expect(short.code).not.toBe(0);
    expect(short.output).toMatch(/JWT_SECRET is shorter than 32 characters/);
    expect(short.output).toMatch(/METRICS_TOKEN is shorter than 32 characters/);
    const same = strong();
    const shared = await run(gateway.script, 'gateway', { ...baseEnv(), JWT_SECRET: same, INTERNAL_IDENTITY_SECRET: same, METRICS_TOKEN: strong() });
    expect(shared.code).not.toBe(0);
    expect(shared.output).toMatch(/INTERNAL_IDENTITY_SECRET must differ from JWT_SECRET/);
  });

  it('starts with secrets of its own (the payment-provider simulator, which needs no database)', async () => {
    const psp = built.find((p) => p.name === 'psp')!;
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as net.AddressInfo;
        server.close(() => resolve(free));
      });
    });
    const child = spawn(process.execPath, [psp.script], {
      cwd: root,
      env: { ...baseEnv(), PAYMENT_WEBHOOK_SECRET: strong(), PSP_PORT: String(port), SERVICE_NAME: 'psp' },
      stdio: 'ignore',
    });
    try {
      await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status ? true : undefined), {
        timeoutMs: 15_000,
      });
    } finally {
      child.kill('SIGTERM');
    }
  });
});
