// Starts the whole built system as real processes on free ports, for system tests and benchmarks.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import { processes, root, wiring } from './processes.mjs';

/** A free TCP port on loopback. */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/**
 * @param {{ databaseUrl: string, runId: string, env?: Record<string,string>, logDir?: string, only?: string[] }} options
 * @returns {Promise<{ gatewayUrl: string, wsUrl: string, pspUrl: string, ports: Record<string, number>, env: Record<string,string>, stop(): Promise<void>, restart(name: string): Promise<void> }>}
 */
export async function startStack(options) {
  const ports = {};
  for (const name of ['gateway', 'catalog', 'cart', 'order', 'inventory', 'payment', 'fulfillment', 'psp', 'web']) ports[name] = await freePort();
  const env = {
    ...process.env,
    ...wiring(ports),
    DATABASE_URL: options.databaseUrl,
    SHOP_RUN_ID: options.runId,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.STACK_LOG_LEVEL ?? 'info',
    ...options.env,
  };
  const logDir = options.logDir ?? `${root}artifacts/logs/${options.runId}`;
  mkdirSync(logDir, { recursive: true });
  const children = new Map();
  const launch = (p) => {
    const child = spawn(process.execPath, [p.script], { cwd: root, env: { ...env, SERVICE_NAME: p.name }, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(`${logDir}/${p.name}.log`, { flags: 'a' });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    children.set(p.name, child);
    return child;
  };
  const list = processes().filter((p) => !options.only || options.only.includes(p.name));
  for (const p of list) launch(p);

  const gatewayUrl = `http://127.0.0.1:${ports.gateway}/graphql`;
  const stop = async () => {
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => (clearTimeout(timer), resolve()));
            child.kill('SIGTERM');
          }),
      ),
    );
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const dead = [...children.entries()].find(([, c]) => c.exitCode !== null);
    if (dead) {
      await stop();
      throw new Error(`${dead[0]} exited with code ${dead[1].exitCode} during start-up; see ${logDir}/${dead[0]}.log`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${ports.gateway}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the stack was not ready within 90 s; logs in ${logDir}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    gatewayUrl,
    wsUrl: gatewayUrl.replace('http', 'ws'),
    pspUrl: `http://127.0.0.1:${ports.psp}`,
    ports,
    env,
    stop,
    /** Kills one process with SIGKILL, like a crash: nothing of it runs its shutdown. */
    async kill(name) {
      const child = children.get(name);
      if (child && child.exitCode === null && child.signalCode === null) {
        await new Promise((resolve) => {
          child.once('exit', resolve);
          child.kill('SIGKILL');
        });
      }
    },
    /** Starts a process of the stack again (after kill). */
    launch(name) {
      const p = list.find((x) => x.name === name);
      if (!p) throw new Error(`no process named ${name}`);
      launch(p);
    },
    /** Kills one process (SIGKILL, like a crash) and starts it again. */
    async restart(name) {
      await this.kill(name);
      this.launch(name);
    },
  };
}
