// Private PostgreSQL and RabbitMQ servers for `npm run chaos`: each in a temporary directory, on free
// loopback ports, started and restarted by this process only. A developer's (or a colleague's)
// servers on 5432/5672 are never touched.
import { spawn, execFile } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import { freePort } from '../scripts/stack.mjs';

const run = promisify(execFile);
const PG_BIN = process.env.CHAOS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

const portOpen = (port) =>
  new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

async function waitFor(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
}

/** Runs a command as `user` when we are root (the servers refuse to run as root), else as ourselves. */
const asUser = (user, command, args, options = {}) =>
  process.getuid?.() === 0 ? run('runuser', ['-u', user, '--', command, ...args], options) : run(command, args, options);

const ownedBy = async (user, dir) => {
  if (process.getuid?.() === 0) await run('chown', ['-R', `${user}:${user}`, dir]);
};

/** A PostgreSQL 15 cluster of its own (trust on loopback), with restart and stop. */
export async function startPostgres(baseDir) {
  const dir = `${baseDir}/postgres`;
  mkdirSync(dir, { recursive: true });
  chmodSync(baseDir, 0o755); // the server's user must reach its directory
  await ownedBy('postgres', dir);
  const port = await freePort();
  await asUser('postgres', `${PG_BIN}/initdb`, ['-D', `${dir}/data`, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const ctl = (...args) => asUser('postgres', `${PG_BIN}/pg_ctl`, ['-D', `${dir}/data`, ...args]);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c max_connections=300`;
  await ctl('-o', options, '-l', `${dir}/server.log`, '-w', '-t', '60', 'start');
  return {
    url: `postgres://postgres@127.0.0.1:${port}`,
    port,
    /** A fast restart: every session is ended, as after a crash or a failover. */
    restart: () => ctl('-o', options, '-l', `${dir}/server.log`, '-m', 'fast', '-w', '-t', '60', 'restart'),
    stop: () => ctl('-m', 'immediate', '-w', '-t', '30', 'stop').catch(() => undefined),
  };
}

/** A RabbitMQ node of its own (no plugins), with restart and stop. */
export async function startRabbit(baseDir, id) {
  const dir = `${baseDir}/rabbitmq`;
  for (const d of [dir, `${dir}/mnesia`, `${dir}/log`]) mkdirSync(d, { recursive: true });
  const port = await freePort();
  const distPort = await freePort();
  const node = `chaos${id}@localhost`;
  writeFileSync(`${dir}/enabled_plugins`, '[].\n');
  writeFileSync(`${dir}/rabbitmq.conf`, `listeners.tcp.1 = 127.0.0.1:${port}\n`);
  chmodSync(baseDir, 0o755);
  await ownedBy('rabbitmq', dir);
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: `${dir}/rabbitmq.conf`,
    RABBITMQ_MNESIA_BASE: `${dir}/mnesia`,
    RABBITMQ_LOG_BASE: `${dir}/log`,
    RABBITMQ_ENABLED_PLUGINS_FILE: `${dir}/enabled_plugins`,
    RABBITMQ_FEATURE_FLAGS_FILE: `${dir}/mnesia/feature_flags`,
    RABBITMQ_PID_FILE: `${dir}/pid`,
  };
  let server;
  const start = async () => {
    server = spawn('rabbitmq-server', [], { env, stdio: 'ignore' });
    await waitFor(`RabbitMQ node ${node}`, () => portOpen(port), 90_000);
  };
  const stop = async () => {
    await run('rabbitmqctl', ['-n', node, 'stop'], { env }).catch(() => undefined);
    await waitFor(`RabbitMQ node ${node} to stop`, async () => !(await portOpen(port)), 30_000).catch(() => server?.kill('SIGKILL'));
  };
  await start();
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    node,
    restart: async () => {
      await stop();
      await start();
    },
    stop,
    /** name → messages of every queue of the node. */
    async queues() {
      const { stdout } = await run('rabbitmqctl', ['-n', node, '-q', 'list_queues', 'name', 'messages'], { env });
      return new Map(
        stdout
          .trim()
          .split('\n')
          .filter((l) => l && !l.startsWith('name'))
          .map((l) => l.split(/\s+/))
          .map(([name, n]) => [name, Number(n)]),
      );
    },
  };
}
