// npm run bench:orders: places orders through the gateway of the whole built system, started as real
// processes against a database of its own, with N concurrent buyers; prints throughput, latency, the
// SLO check (seed-design §4.2: placeOrder p95 <= 300 ms) and the stock invariants (§12.1 oversell_count == 0).
// Beside it, in the same run: the database floor (floor.mjs: the minimal order transaction at the same
// concurrency against the same server) and the SQL statements and transactions per order every process
// counted (db-counters.mjs), each with its goal (issue 11).
// Plain Node ESM; needs `turbo run build` first (the npm script does it). Options: see options.mjs.
import os from 'node:os';
import { readSnapshot, waitForSettle } from './database.mjs';
import { difference, perOrder, readCounters } from './db-counters.mjs';
import { runFloor } from './floor.mjs';
import { gqlOrThrow } from './gateway-client.mjs';
import { gatewayReady, mintClientToken, runBenchmark, say, saySummary, SetupError } from './harness.mjs';
import { cpuPerUnit, cpuTimes, cpuTotal } from './cpu-times.mjs';
import { checkInvariants } from './invariants.mjs';
import { runLoad } from './load.mjs';
import { readOptions, USAGE } from './options.mjs';
import { ms } from './stats.mjs';

const SLO_P95_MS = 300;
/** Goals of issue 11: the stack's order rate as a share of the database floor's, and the database work per order. */
const GOAL_FLOOR_RATIO = 0.3;
const GOAL_STATEMENTS = 15;
const GOAL_TRANSACTIONS = 3;
/** How long the idle stack is watched to measure its background database work. */
const IDLE_MS = 5000;
const WAREHOUSES = ['bench-wh-a', 'bench-wh-b'];
const MAX_ON_HAND = 1_000_000;

/** Everything after the stack is ready: set-up, the order load, the invariants and the summary. */
async function run({ options, stack, database, reader, runId, logs, machine, interrupted }) {
  const adminToken = await mintClientToken({ userId: `bench-admin-${runId}`, roles: ['admin'] });
  const { hotSkuId, coldSkuIds, set } = await setUp(stack.gatewayUrl, adminToken, options).catch((error) => {
    throw new SetupError(error.message);
  });
  const tokens = await Promise.all(Array.from({ length: options.users }, (_, u) => mintClientToken({ userId: `bench-${runId}-u${u}`, roles: [] })));
  say(`set up: 1 product, ${1 + coldSkuIds.length} SKUs, stock in ${WAREHOUSES.join(' and ')}, ${tokens.length} buyer tokens`);

  // A shop runs before it is measured: orders on a product of their own, by buyers of their own, warm the
  // fresh stack (compiled code, pooled connections, the database's caches); they stay in the invariants.
  const warm = options.warmUp > 0 ? await warmUp({ options, stack, adminToken, runId, reader, interrupted }) : undefined;
  if (interrupted()) return 130;
  if (warm) for (const [skuId, byWarehouse] of warm.set) set.set(skuId, byWarehouse);

  // The floor runs half its time before the load and half after: on a shared machine the load of
  // others moves it, and the mean of both sides is what the stack's rate is compared with.
  const floorHalf = async (when) => {
    say(`database floor ${when}: the minimal order transaction, ${options.concurrency} connections, ${options.floorS / 2} s...`);
    const half = await runFloor({ databaseUrl: database.url, concurrency: options.concurrency, durationS: options.floorS / 2, shouldStop: interrupted });
    say(`database floor ${when}: ${half.rate.toFixed(1)} transactions/s (${half.transactions} in ${(half.wallMs / 1000).toFixed(1)} s)`);
    return half;
  };
  const floorBefore = options.floorS > 0 ? await floorHalf('before the load') : undefined;
  if (interrupted()) return 130;
  say(`measuring the idle stack's background database work for ${IDLE_MS / 1000} s...`);
  const idleStart = await readCounters(stack, reader);
  const cpuIdleStart = cpuTimes(stack);
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const loadStart = await readCounters(stack, reader);
  const cpuLoadStart = cpuTimes(stack);
  say();

  const total = options.users * options.ordersPerUser;
  const load = await placeOrders({ options, stack, interrupted }, { tokens, hotSkuId, coldSkuIds, total, runId }, (p) => {
    if (interrupted()) return;
    say(
      `[${p.elapsedS.toFixed(0).padStart(3)} s] ${String(p.done).padStart(String(p.total).length)}/${p.total} orders  ${p.rate.toFixed(1).padStart(6)} orders/s  placed ${p.placed}  rejected ${p.rejected}  errors ${p.errors}`,
    );
  });
  if (interrupted()) return 130;

  say('waiting for the asynchronous paths to settle...');
  const settled = await waitForSettle(reader);
  const loadEnd = await quietCounters(stack, reader, difference(idleStart, loadStart));
  const cpuLoadEnd = cpuTimes(stack);
  const database_ = perOrder(difference(loadStart, loadEnd), difference(idleStart, loadStart), Math.max(1, load.placed));
  const cpu = cpuPerOrder({
    idle: [cpuIdleStart, cpuLoadStart],
    load: [cpuLoadStart, cpuLoadEnd],
    idleMs: loadStart.at - idleStart.at,
    loadMs: loadEnd.at - loadStart.at,
    orders: load.placed,
  });
  const floorAfter = floorBefore ? await floorHalf('after the load') : undefined;
  if (interrupted()) return 130;
  const floor = floorBefore && {
    rate: (floorBefore.rate + floorAfter.rate) / 2,
    before: floorBefore.rate,
    after: floorAfter.rate,
    statementsPerTransaction: floorBefore.statementsPerTransaction,
  };
  const snapshot = await readSnapshot(reader, [...set.keys()]);
  const gatewayAvailable = await availableThroughGateway(stack.gatewayUrl, adminToken, [...set.keys()]);
  const both = warm ? [load, warm.load] : [load];
  const checks = checkInvariants(snapshot, {
    set,
    hotSkuIds: warm ? [hotSkuId, warm.hotSkuId] : [hotSkuId],
    qty: options.qty,
    gatewayAvailable,
    settled,
    client: {
      placed: both.reduce((n, l) => n + l.placed, 0),
      errors: both.reduce((n, l) => n + l.errors.total, 0),
      stockNotEnough: both.reduce((n, l) => n + (l.rejected.get('STOCK_NOT_ENOUGH') ?? 0), 0),
    },
  });
  const ready = await gatewayReady(stack);

  printSummary({ options, load, warm, checks, snapshot, hotSkuId, set, ready, machine, floor, database: database_, cpu });
  const broken = checks.some((c) => !c.ok);
  const answered = load.placeLatency.count;
  if (!ready || answered === 0) {
    say(`\nRESULT: the stack failed (${!ready ? 'gateway not ready at the end' : 'no placeOrder call was answered'}); logs in ${logs}`);
    return 2;
  }
  say(broken ? '\nRESULT: INVARIANT BROKEN' : '\nRESULT: invariants hold');
  return broken ? 1 : 0;
}

/**
 * The counters once the consumers the orders triggered are done: the outboxes being drained does not
 * mean every consumer has committed, so read until one second adds no more than twice the idle rate.
 */
async function quietCounters(stack, reader, idle, timeoutMs = 30_000) {
  const idlePerS = (idle.statements * 1000) / Math.max(1, idle.ms);
  const until = Date.now() + timeoutMs;
  let last = await readCounters(stack, reader);
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await readCounters(stack, reader);
    if (now.statements - last.statements <= Math.max(2, 2 * idlePerS) || Date.now() > until) return now;
    last = now;
  }
}

/**
 * CPU ms per placed order of each process, from the start of the load until its consumers are done,
 * less what the idle stack used in as long a time (the benchmark client's own is not scaled: it was idle).
 */
function cpuPerOrder({ idle, load, idleMs, loadMs, orders }) {
  const scale = loadMs / Math.max(1, idleMs);
  const idlePer = new Map(cpuPerUnit(idle[0], idle[1], 1));
  const idleAtLoadEnd = new Map([...load[1]].map(([name, msValue]) => [name, msValue - (name === 'benchmark client' ? 0 : (idlePer.get(name) ?? 0) * scale)]));
  return cpuPerUnit(load[0], idleAtLoadEnd, orders);
}

/** `total` orders through the gateway, options.concurrency at a time, each previewed and placed (load.mjs). */
const placeOrders = ({ options, stack, interrupted }, { tokens, hotSkuId, coldSkuIds, total, runId }, onProgress) =>
  runLoad({
    url: stack.gatewayUrl,
    tokens,
    hotSkuId,
    coldSkuIds,
    qty: options.qty,
    total,
    concurrency: options.concurrency,
    deadline: Date.now() + options.durationS * 1000,
    runId,
    shouldStop: interrupted,
    onProgress,
  });

/** The warm-up: options.warmUp orders as the measured load places them, on a product of their own, then settled. */
async function warmUp({ options, stack, adminToken, runId, reader, interrupted }) {
  const orders = options.warmUp;
  const { hotSkuId, coldSkuIds, set } = await setUp(stack.gatewayUrl, adminToken, {
    ...options,
    stock: orders * options.qty,
    users: orders,
    ordersPerUser: 1,
  }).catch((error) => {
    throw new SetupError(error.message);
  });
  const tokens = await Promise.all(
    Array.from({ length: Math.min(options.users, orders) }, (_, u) => mintClientToken({ userId: `bench-${runId}-w${u}`, roles: [] })),
  );
  say(`warm-up (the fresh stack's first orders, not measured): ${orders} orders on a product of their own...`);
  const load = await placeOrders({ options, stack, interrupted }, { tokens, hotSkuId, coldSkuIds, total: orders, runId: `${runId}-w` });
  await waitForSettle(reader);
  say(`warm-up: ${load.placed} placed in ${(load.wallMs / 1000).toFixed(1)} s (${rateAndP95(load)})`);
  return { load, hotSkuId, set };
}

/** A load's placed orders per second and placeOrder p95, as printed for the warm-up. */
const rateAndP95 = (load) => `${(load.placed / (load.wallMs / 1000)).toFixed(1)} orders/s, placeOrder p95 ${load.placeLatency.summary().p95.toFixed(1)} ms`;

/** As an admin through the gateway: one product with a hot SKU and three cold ones, stock in two warehouses. */
async function setUp(url, token, options) {
  // Every simulated buyer comes from this machine's address: the per-IP, per-user and per-device
  // order limits of risk control would refuse the load, so the benchmark switches them off.
  for (const id of ['ip-velocity', 'user-velocity', 'device-velocity']) {
    await gqlOrThrow(url, `mutation($id: ID!) { setRiskRule(id: $id, enabled: false) { id } }`, { id }, token, 'setRiskRule');
  }
  const created = await gqlOrThrow(
    url,
    `mutation($input: CreateProductInput!) { createProduct(input: $input) { id skus { id title } } }`,
    {
      input: {
        title: `Bench product ${new Date().toISOString()}`,
        description: 'created by npm run bench:orders',
        skus: [
          { title: 'hot', price: 9900, currency: 'CNY', flashSale: false },
          { title: 'cold-1', price: 4900, currency: 'CNY', flashSale: false },
          { title: 'cold-2', price: 2500, currency: 'CNY', flashSale: false },
          { title: 'cold-3', price: 12900, currency: 'CNY', flashSale: false },
        ],
      },
    },
    token,
    'createProduct',
  );
  const skus = created.createProduct.skus;
  const hotSkuId = skus.find((s) => s.title === 'hot').id;
  const coldSkuIds = skus.filter((s) => s.id !== hotSkuId).map((s) => s.id);
  const orders = options.users * options.ordersPerUser;
  const half = Math.ceil(options.stock / 2);
  /** @type {Map<string, Map<string, number>>} sku -> warehouse -> on hand */
  const set = new Map([
    [
      hotSkuId,
      new Map([
        [WAREHOUSES[0], half],
        [WAREHOUSES[1], options.stock - half],
      ]),
    ],
  ]);
  for (const id of coldSkuIds) set.set(id, new Map(WAREHOUSES.map((w) => [w, Math.min(orders, MAX_ON_HAND)])));
  for (const [skuId, byWarehouse] of set) {
    for (const [warehouseId, onHand] of byWarehouse) {
      await gqlOrThrow(
        url,
        `mutation($s: ID!, $w: ID!, $n: Int!) { setStock(skuId: $s, warehouseId: $w, onHand: $n) { id available } }`,
        { s: skuId, w: warehouseId, n: onHand },
        token,
        'setStock',
      );
    }
  }
  return { hotSkuId, coldSkuIds, set };
}

/** Each goal of issue 11: [label, holds, figure]. */
function goals({ floor, load, wallS, place, database }) {
  const ratio = floor ? load.placed / wallS / floor.rate : Number.NaN;
  return [
    [`stack / floor >= ${GOAL_FLOOR_RATIO}`, ratio >= GOAL_FLOOR_RATIO, floor ? ratio.toFixed(3) : 'floor skipped'],
    [`placeOrder p95 <= ${SLO_P95_MS} ms`, place.p95 <= SLO_P95_MS, ms(place.p95)],
    [`SQL statements / order <= ${GOAL_STATEMENTS}`, database.statements <= GOAL_STATEMENTS, database.statements.toFixed(1)],
    [`transactions / order <= ${GOAL_TRANSACTIONS}`, database.transactions <= GOAL_TRANSACTIONS, database.transactions.toFixed(2)],
  ];
}

async function availableThroughGateway(url, token, skuIds) {
  const result = new Map();
  for (const id of skuIds) {
    const data = await gqlOrThrow(url, `query($id: ID!) { sku(id: $id) { id available } }`, { id }, token, 'sku query').catch(() => undefined);
    result.set(id, data?.sku?.available);
  }
  return result;
}

function printSummary({ options, load, warm, checks, snapshot, hotSkuId, set, ready, machine, floor, database, cpu }) {
  const wallS = load.wallMs / 1000;
  const place = load.placeLatency.summary();
  const placed = load.placedLatency.summary();
  const preview = load.previewLatency.summary();
  const total = options.users * options.ordersPerUser;
  const slo = place.p95 <= SLO_P95_MS ? 'PASS' : 'FAIL';
  const hotRows = snapshot.stock.filter((r) => r.skuId === hotSkuId);
  const rows = [
    ['machine', undefined],
    ...machine.filter(([k]) => k === 'CPUs' || k === 'Node' || k.startsWith('load average')),
    ['parameters', undefined],
    ['users × orders per user', `${options.users} × ${options.ordersPerUser} = ${total}`],
    ['concurrency', String(options.concurrency)],
    ['hot SKU stock / demand', `${options.stock} / ${options.demand}${options.hot ? ' (--hot)' : ''}`],
    [
      'warm-up (not measured)',
      warm
        ? `${warm.load.placed} orders placed first on a product of their own: ${rateAndP95(warm.load)} (the fresh stack)`
        : "none (--warm-up 0): the measured orders are the fresh stack's first",
    ],
    ['outcome', undefined],
    ['orders attempted', `${load.done}${load.capped ? ` (capped by --duration ${options.durationS} s; ${total - load.started} not started)` : ''}`],
    [
      'orders placed',
      `${load.placed}${load.placedAsync ? ` (${load.placedAsync} via the asynchronous path)` : ''}${load.replayed ? `, ${load.replayed} REPLAYED (unexpected)` : ''}`,
    ],
    ['rejected (by code)', `${load.rejected.total}: ${load.rejected}`],
    ['errors', `${load.errors.total}: ${load.errors}`],
    ['previews answered INSUFFICIENT', String(load.insufficientPreviews)],
    ['orders in database', snapshot.statuses.map((s) => `${s.status}${s.reason ? `/${s.reason}` : ''} ${s.n}`).join(', ') || 'none'],
    ['throughput', undefined],
    ['wall time (order phase)', `${wallS.toFixed(1)} s`],
    ['orders placed / s', (load.placed / wallS).toFixed(1)],
    ['orders attempted / s', (load.done / wallS).toFixed(1)],
    ['load generator CPU', `${(load.clientCpuMs / 1000).toFixed(1)} s (${((load.clientCpuMs / load.wallMs) * 100).toFixed(0)}% of one core)`],
    ['load average (1 min) at the end', os.loadavg()[0].toFixed(2)],
    ['latency', undefined],
    ['placeOrder p50 / p95 / p99 / max', `${ms(place.p50)} / ${ms(place.p95)} / ${ms(place.p99)} / ${ms(place.max)}  (${place.count} answered calls)`],
    ...(load.rejected.total
      ? [['placeOrder, placed only p50 / p95 / p99', `${ms(placed.p50)} / ${ms(placed.p95)} / ${ms(placed.p99)}  (${placed.count} calls)`]]
      : []),
    ['previewOrder p50 / p95 / p99 / max', `${ms(preview.p50)} / ${ms(preview.p95)} / ${ms(preview.p99)} / ${ms(preview.max)}  (${preview.count} calls)`],
    ['SLO (seed-design §4.2)', `placeOrder p95 <= ${SLO_P95_MS} ms: ${slo} (${ms(place.p95)})`],
    ['database floor', undefined],
    ...(floor
      ? [
          [
            'floor: minimal order transactions / s',
            `${floor.rate.toFixed(1)} (mean of ${floor.before.toFixed(1)} before and ${floor.after.toFixed(1)} after the load; ${floor.statementsPerTransaction} statements in one transaction, ${options.concurrency} connections)`,
          ],
          ['stack: orders placed / s', (load.placed / wallS).toFixed(1)],
          ['ratio stack / floor', (load.placed / wallS / floor.rate).toFixed(3)],
        ]
      : [['floor', 'skipped (--floor 0)']]),
    ['database work per placed order', undefined],
    ['SQL statements / order', `${database.statements.toFixed(1)}  (every process's db_statements_total, less the idle background)`],
    ['transactions / order', `${database.transactions.toFixed(2)}  (PostgreSQL's own count: ${database.server.toFixed(2)})`],
    ['round trips / order', `${database.roundTrips.toFixed(1)}  (every text sent, BEGIN and COMMIT included)`],
    [
      'idle background / s',
      `${database.background.statements.toFixed(1)} statements, ${database.background.transactions.toFixed(1)} transactions (server ${database.background.server.toFixed(1)})`,
    ],
    ...[...database.per]
      .filter(([, v]) => v.statements > 0)
      .map(([name, v]) => [
        `  ${name}`,
        `${v.statements.toFixed(1)} statements, ${v.transactions.toFixed(2)} transactions, ${v.roundTrips.toFixed(1)} round trips`,
      ]),
    ['CPU per placed order (ms; each process or server, less the idle background)', undefined],
    ...cpu.map(([name, perOrder]) => [`  ${name}`, perOrder.toFixed(2)]),
    ['  total', cpuTotal(cpu)],
    ['goals (issue 11)', undefined],
    ...goals({ floor, load, wallS, place, database }).map(([label, ok, detail]) => [`${ok ? 'PASS' : 'FAIL'} ${label}`, detail]),
    ['stock of the hot SKU', undefined],
    ...hotRows.map((r) => [r.warehouseId, `set ${set.get(hotSkuId).get(r.warehouseId)}  available ${r.available}  reserved ${r.reserved}  sold ${r.sold}`]),
    ['invariants', undefined],
    ...checks.map((c) => [`${c.ok ? 'ok  ' : 'FAIL'} ${c.label}`, c.detail]),
    ['gateway ready at the end', ready ? 'yes' : 'NO'],
  ];
  saySummary(rows);
}

await runBenchmark({
  title: 'shop order benchmark',
  usage: USAGE,
  readOptions,
  parameters: (options) => [
    ['users', options.users],
    ['orders per user', options.ordersPerUser],
    ['orders (total)', options.users * options.ordersPerUser],
    ['concurrency', options.concurrency],
    ['mode', options.hot ? 'hot (stock below demand)' : 'normal'],
    ['hot SKU stock', `${options.stock} (demand ${options.demand}, ${options.qty} per order, over ${WAREHOUSES.length} warehouses)`],
    ['duration cap', `${options.durationS} s`],
    ['database floor', options.floorS > 0 ? `${options.floorS} s at concurrency ${options.concurrency}` : 'skipped'],
  ],
  // --profile: every process writes a CPU profile (node --cpu-prof) when it stops, into the logs directory.
  stackEnv: (options, logs) => (options.profile ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${logs}/profiles`.trim() } : {}),
  failureCode: 2,
  run,
});
