// Starts the whole built system as real processes on free ports, for system tests and benchmarks.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import { processes, root, wiring } from './processes.mjs';
import { startTcpProxy } from './tcp-proxy.mjs';

/** The kinds whose processes take SHARED_PORT (those started by kit server.ts and the gateway). */
const SHARED_PORT_KINDS = new Set(['gateway', 'catalog', 'cart', 'order', 'inventory', 'payment', 'fulfillment']);

const portVariable = (name) => `${name === 'psp' ? 'PSP' : name.toUpperCase()}_PORT`;

/** Whether nothing listens on 127.0.0.1:port. */
const canListen = (port) =>
  new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

// Ports come from below the kernel's ephemeral range (32768 and up on Linux): a port chosen here is
// not handed meanwhile to another stack's listen(0) or to an outgoing connection, as a port from
// listen(0) can be. Each stack starts at a random point and counts up, so stacks started at once
// by parallel test files stay apart.
const PORTS_FROM = 20000;
const PORTS_COUNT = 12000;
let nextPort = Math.floor(Math.random() * PORTS_COUNT);
/** A free TCP port on loopback, below the ephemeral range. */
export const freePort = async () => {
  for (let tries = 0; tries < 500; tries++) {
    const port = PORTS_FROM + (nextPort++ % PORTS_COUNT);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between ${PORTS_FROM} and ${PORTS_FROM + PORTS_COUNT - 1}`);
};

/**
 * `replicas` runs several processes of one kind (`{ order: 2, gateway: 2 }`): replica i is named
 * `order-i` and listens on a port of its own. What spreads connections to the kind's address over
 * the replicas, standing in for a Kubernetes Service, is `balancer`:
 * - `proxy` (the default): a round-robin TCP proxy in this process (tcp-proxy.mjs). Deterministic
 *   (tests count each replica's connections), but every byte passes this process's event loop;
 * - `kernel`: the replicas also listen on the kind's port with SO_REUSEPORT (SHARED_PORT, kit
 *   shared-port.ts) and the kernel spreads the connections, as kube-proxy does in the kernel: no
 *   process of ours copies the bytes. Benchmarks use it, so the balancer costs them nothing.
 *
 * @param {{ databaseUrl: string, runId: string, env?: Record<string,string>, logDir?: string, only?: string[], replicas?: Record<string, number>, balancer?: 'proxy' | 'kernel' }} options
 * @returns {Promise<{ gatewayUrl: string, wsUrl: string, pspUrl: string, ports: Record<string, number>, env: Record<string,string>, instances: { name: string, kind: string, port: number }[], proxies: Record<string, { connections: number[] }>, stop(): Promise<void>, restart(name: string): Promise<void> }>}
 */
export async function startStack(options) {
  const balancer = options.balancer ?? 'proxy';
  if (balancer !== 'proxy' && balancer !== 'kernel') throw new Error(`balancer must be 'proxy' or 'kernel', got ${balancer}`);
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
    const child = spawn(process.execPath, [p.script], { cwd: root, env: { ...env, ...p.env, SERVICE_NAME: p.name }, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(`${logDir}/${p.name}.log`, { flags: 'a' });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    children.set(p.name, child);
    return child;
  };
  const list = [];
  const proxies = {};
  for (const p of processes().filter((x) => !options.only || options.only.includes(x.name))) {
    const count = options.replicas?.[p.name] ?? 1;
    if (count === 1) {
      list.push({ ...p, kind: p.name, port: ports[p.name], env: {} });
      continue;
    }
    const kernel = balancer === 'kernel';
    if (kernel && !SHARED_PORT_KINDS.has(p.name)) throw new Error(`${p.name} cannot share a port (SHARED_PORT): replicate it with balancer 'proxy'`);
    const backends = [];
    for (let i = 1; i <= count; i++) {
      const port = await freePort();
      backends.push(port);
      ports[`${p.name}-${i}`] = port;
      const own = { [portVariable(p.name)]: String(port), ...(kernel ? { SHARED_PORT: String(ports[p.name]) } : {}) };
      list.push({ ...p, name: `${p.name}-${i}`, kind: p.name, port, env: own });
    }
    if (!kernel) proxies[p.name] = await startTcpProxy({ port: ports[p.name], backends });
  }
  for (const p of list) launch(p);

  const gatewayUrl = `http://127.0.0.1:${ports.gateway}/graphql`;
  const stop = async () => {
    await Promise.all(Object.values(proxies).map((proxy) => proxy.close()));
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => (clearTimeout(timer), resolve()));
            child.kill('SIGTERM');
          }),
      ),
    );
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const dead = [...children.entries()].find(([, c]) => c.exitCode !== null || c.signalCode !== null);
    if (dead) {
      await stop();
      throw new Error(`${dead[0]} exited with code ${dead[1].exitCode} during start-up; see ${logDir}/${dead[0]}.log`);
    }
    // The gateway (through its proxy, when replicated) and every replica answer ready.
    const probes = [`http://127.0.0.1:${ports.gateway}/readyz`, ...list.filter((p) => p.name !== p.kind).map((p) => `http://127.0.0.1:${p.port}/readyz`)];
    const ready = await Promise.all(
      probes.map((url) =>
        fetch(url).then(
          (res) => res.ok,
          () => false,
        ),
      ),
    );
    if (ready.every(Boolean)) break;
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
    instances: list.map((p) => ({ name: p.name, kind: p.kind, port: p.port })),
    proxies,
    /** The process id of each running process, by name (for CPU accounting). */
    pids: () => new Map([...children.entries()].filter(([, c]) => c.exitCode === null && c.signalCode === null).map(([name, c]) => [name, c.pid])),
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
