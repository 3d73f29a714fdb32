// Parameters of the subscription benchmark: command-line flags first, then BENCH_* environment variables, then defaults.
import { readFlags } from './flags.mjs';

export const USAGE = `npm run bench:subscriptions -- [options]

Opens N graphql-ws clients to the gateway of a freshly started stack (own database, own broker names),
each subscribed to orderStatusChanged(orderId) { status version } of one of M orders, then cancels the
orders at a fixed rate and measures: gateway memory per connection, subscribe -> first message latency,
cancel -> CANCELED push latency over every (client, event) pair, missing/duplicate pushes, pushes/s.

  --clients N              WebSocket clients, one subscription each       (BENCH_CLIENTS, default 2000)
  --orders M               orders the clients are spread over (client i -> order i mod M)
                                                                          (BENCH_ORDERS, default 200)
  --rate R                 cancelOrder calls per second                   (BENCH_RATE, default 20)
  --connect-concurrency C  clients connecting/subscribing at once         (BENCH_CONNECT_CONCURRENCY, default 100)
  --drain-timeout SECONDS  after the last cancel, wait this long without a new push before
                           counting the rest as missing                   (BENCH_DRAIN_TIMEOUT, default 30)
  --help

Each client is one socket, so this process and the gateway each need about N open files:
\`ulimit -n\` must be at least N + 512 (checked before anything starts).
Database: a new database shop_bench_<timestamp> on the server of DATABASE_URL
(default postgres://postgres@127.0.0.1:5432), dropped at the end. Stack logs: STACK_LOG_LEVEL (default warn).
Exit code: 0 when every subscriber got exactly one CANCELED push; 1 when the stack or the set-up failed,
a client could not subscribe, a cancel failed, or pushes went missing or were duplicated; 130 when interrupted.`;

/** @returns {{ help: boolean, clients: number, orders: number, rate: number, connectConcurrency: number, drainTimeoutS: number }} */
export function readOptions(argv = process.argv.slice(2), env = process.env) {
  const { help, int } = readFlags(argv, env, {
    clients: { type: 'string' },
    orders: { type: 'string' },
    rate: { type: 'string' },
    'connect-concurrency': { type: 'string' },
    'drain-timeout': { type: 'string' },
  });
  const clients = int('clients', 'BENCH_CLIENTS', 2000, { max: 100_000 });
  const orders = int('orders', 'BENCH_ORDERS', 200, { max: 100_000 });
  const rate = int('rate', 'BENCH_RATE', 20, { max: 10_000 });
  const connectConcurrency = int('connect-concurrency', 'BENCH_CONNECT_CONCURRENCY', 100, { max: 10_000 });
  const drainTimeoutS = int('drain-timeout', 'BENCH_DRAIN_TIMEOUT', 30, { max: 3600 });
  if (orders > clients) throw new Error(`--orders (${orders}) must not exceed --clients (${clients}): every order needs a subscriber`);
  return { help, clients, orders, rate, connectConcurrency, drainTimeoutS };
}
