// Parameters of the order benchmark: command-line flags first, then BENCH_* environment variables, then defaults.
import { positiveInt, readFlags } from './flags.mjs';

export const USAGE = `npm run bench:orders -- [options]

Places orders through the gateway of a freshly started stack (own database, own broker names) and
prints latency and throughput figures, the SLO check (placeOrder p95 <= 300 ms) and the stock invariants.
Beside it, it runs the database floor (half before, half after the load): the minimal order transaction through node-pg, with as many connections
as --concurrency, against the same server; then it prints the stack's rate as a share of the floor's
(goal >= 0.3) and the SQL statements and transactions per previewed-and-placed order that every process
counted, asynchronous consumers included (goals <= 15 and <= 3).

  --users N            simulated buyers, one token each               (BENCH_USERS, default 200)
  --orders-per-user M  orders each buyer places                       (BENCH_ORDERS_PER_USER, default 5)
  --concurrency C      orders in flight at once (worker pool)         (BENCH_CONCURRENCY, default 50)
  --stock S            on-hand units of the hot SKU, split over two warehouses
                       (BENCH_STOCK, default: every order can be served; with --hot: a fifth of the demand)
  --hot                less hot-SKU stock than demand: exercises STOCK_NOT_ENOUGH (BENCH_HOT=1)
  --qty Q              units of the hot SKU per order                 (BENCH_QTY, default 1)
  --duration SECONDS   stop starting new orders after this long       (BENCH_DURATION, default 75)
  --floor SECONDS      how long the database floor runs, half before and half after the load, 0 to skip
                       (BENCH_FLOOR, default 20)
  --warm-up W          orders placed first on a product of their own by buyers of their own, not measured
                       (a shop runs before it is measured: compiled code, pooled connections, the database's
                       caches); their figures are printed as the fresh stack's. 0: measure the fresh stack
                       (BENCH_WARM_UP, default 500)
  --profile            every process writes a CPU profile (node --cpu-prof) into <logs>/profiles when it stops
  --help

Database: a new database shop_bench_<timestamp> on the server of DATABASE_URL
(default postgres://postgres@127.0.0.1:5432), dropped at the end. Stack logs: STACK_LOG_LEVEL (default warn).
Exit code: 0 when the invariants hold (even when the SLO fails), 1 when an invariant is broken,
2 when the stack or the set-up failed, 130 when interrupted.`;

/** @returns {{ help: boolean, users: number, ordersPerUser: number, concurrency: number, stock: number, hot: boolean, qty: number, durationS: number, demand: number, floorS: number, warmUp: number, profile: boolean }} */
export function readOptions(argv = process.argv.slice(2), env = process.env) {
  const { values, help, pick, int } = readFlags(argv, env, {
    users: { type: 'string' },
    'orders-per-user': { type: 'string' },
    concurrency: { type: 'string' },
    stock: { type: 'string' },
    hot: { type: 'boolean' },
    qty: { type: 'string' },
    duration: { type: 'string' },
    floor: { type: 'string' },
    'warm-up': { type: 'string' },
    profile: { type: 'boolean' },
  });
  const users = int('users', 'BENCH_USERS', 200, { max: 100_000 });
  const ordersPerUser = int('orders-per-user', 'BENCH_ORDERS_PER_USER', 5, { max: 10_000 });
  const concurrency = int('concurrency', 'BENCH_CONCURRENCY', 50, { max: 2_000 });
  // The order subgraph accepts at most 99 units of one SKU per order.
  const qty = int('qty', 'BENCH_QTY', 1, { max: 99 });
  const durationS = int('duration', 'BENCH_DURATION', 75, { max: 86_400 });
  const floorS = int('floor', 'BENCH_FLOOR', 20, { min: 0, max: 3_600 });
  const warmUp = int('warm-up', 'BENCH_WARM_UP', 500, { min: 0, max: 100_000 });
  const profile = values.profile ?? false;
  // Node accepts --cpu-prof in NODE_OPTIONS from version 22 on (npm run uses the pinned Node 24).
  if (profile && Number(process.versions.node.split('.')[0]) < 22)
    throw new Error(`--profile needs Node 22 or later (this is ${process.version}): run it through npm run`);
  const hot = values.hot ?? ['1', 'true', 'yes'].includes(String(env.BENCH_HOT ?? '').toLowerCase());
  const demand = users * ordersPerUser * qty;
  const rawStock = pick('stock', 'BENCH_STOCK', undefined);
  // Two warehouses hold at most 1,000,000 each (inventory's MAX_ON_HAND).
  const stock =
    rawStock !== undefined
      ? positiveInt('stock', rawStock, { min: 0, max: 2_000_000 })
      : hot
        ? Math.max(qty, Math.floor(demand / 5))
        : Math.min(demand, 2_000_000);
  return { help, users, ordersPerUser, concurrency, stock, hot, qty, durationS, demand, floorS, warmUp, profile };
}
