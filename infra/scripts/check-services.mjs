// Checks that PostgreSQL, RabbitMQ and Redis are reachable before anything starts, and says exactly
// what is missing and how to get it. Plain Node (no dependencies), so it runs before `npm ci`.
import net from 'node:net';

const targets = [
  { name: 'PostgreSQL', env: 'DATABASE_URL', url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/shop', port: 5432 },
  { name: 'RabbitMQ', env: 'AMQP_URL', url: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', port: 5672 },
  { name: 'Redis', env: 'REDIS_URL', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', port: 6379 },
];

const reachable = ({ hostname, port }) =>
  new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port, timeout: 2000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });

const quiet = process.argv.includes('--quiet');
let missing = 0;
for (const t of targets) {
  const u = new URL(t.url);
  const where = { hostname: u.hostname, port: Number(u.port || t.port) };
  if (await reachable(where)) continue;
  missing += 1;
  if (!quiet) console.error(`✗ ${t.name} is not reachable at ${where.hostname}:${where.port} (from ${t.env}${process.env[t.env] ? '' : ', default'}).`);
}
if (missing > 0) {
  if (quiet) process.exit(1);
  console.error(`
How to get them:
  • Debian/Ubuntu with the packaged servers:   bash infra/scripts/services.sh
    (starts PostgreSQL, RabbitMQ and Redis; installs them with apt-get when run as root and they are missing)
  • With Docker:                                docker compose -f infra/docker-compose.yml up -d
  • Elsewhere: point DATABASE_URL, AMQP_URL and REDIS_URL at your own servers (PostgreSQL 15+, RabbitMQ 3.10+, Redis 7+).`);
  process.exit(1);
}
