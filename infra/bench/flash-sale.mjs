// npm run bench:flash-sale: seed-design §2 scaled to this machine. A flash-sale SKU with S units, 15 × S
// clicks from distinct buyers (each a previewOrder, then a placeOrder when admitted) through a bounded pool,
// once against one gateway and one order process, once against two of each (sharing their ports in the kernel),
// each after a warm-up sale of the same size on another SKU (a shop runs before its sale; --cold skips it).
// Prints decisions/s, latencies of refused and admitted clicks, order rows per refused click, time to sell
// out, units sold, oversold, orders left unsettled, and whether each goal holds. Plain Node ESM; needs
// `turbo run build` first (the npm script does it).
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { cpuPerUnit, cpuTimes, cpuTotal } from './cpu-times.mjs';
import { waitForSettle } from './database.mjs';
import { difference, readCounters } from './db-counters.mjs';
import { readFlags } from './flags.mjs';
import { gatewayClient, gqlOrThrow } from './gateway-client.mjs';
import { mintClientToken, runBenchmark, say, saySummary, SetupError } from './harness.mjs';
import { Latencies, Tally, ms, table } from './stats.mjs';

const { FlashAdmission, createRedis, flashSaleSettings } = await import('../../subgraphs/kit/dist/index.js');

const USAGE = `npm run bench:flash-sale -- [options]

A flash sale through the gateway of freshly started stacks (own database, own broker names and Redis keys):
one SKU with S units, clicks-per-unit × S clicks from distinct buyers, C at a time; each click previews the
order and, when admitted, places it. Runs with 1 gateway + 1 order process, then 2 + 2.

  --units S            units for sale                                (BENCH_UNITS, default 300)
  --clicks-per-unit K  clicks per unit, each from its own buyer      (BENCH_CLICKS_PER_UNIT, default 15)
  --concurrency C      clicks in flight at once (worker pool)        (BENCH_CONCURRENCY, default 150)
  --shapes LIST        replicas of gateway and order per run         (BENCH_SHAPES, default 1,2)
  --cold               no warm-up sale: the measured sale is the fresh stack's first traffic
                       (BENCH_COLD; by default a sale of the same size on another SKU runs first,
                       its figures printed as the cold stack's and not judged)
  --profile            every process writes a CPU profile (node --cpu-prof) into <logs>/profiles when it stops
  --help

Admission settings are the system's (FLASH_SALE_RATE, FLASH_SALE_BURST, FLASH_SALE_QUEUE from the environment,
else their defaults). Exit code: 0 when every goal holds in every run, 1 when one does not, 2 when a stack
or the set-up failed, 130 when interrupted.`;

const GOALS = { decisionsPerS: 1000, refusedP95Ms: 100, rowsPerRefused: 0.01 };
const WAREHOUSE = 'bench-wh-flash';
const PREVIEW = `mutation FlashPreview($input: PreviewOrderInput!) { previewOrder(input: $input) { previewId queuePosition } }`;
/** Attempts per call when the system failed it. */
const RETRIES = 3;
const PLACE = `mutation FlashPlace($input: PlaceOrderInput!) { placeOrder(input: $input) { replayed order { id status } } }`;

function readOptions(argv = process.argv.slice(2), env = process.env) {
  const { values, help, pick, int } = readFlags(argv, env, {
    units: { type: 'string' },
    'clicks-per-unit': { type: 'string' },
    concurrency: { type: 'string' },
    shapes: { type: 'string' },
    profile: { type: 'boolean' },
    cold: { type: 'boolean' },
  });
  const units = int('units', 'BENCH_UNITS', 300, { max: 100_000 });
  const clicksPerUnit = int('clicks-per-unit', 'BENCH_CLICKS_PER_UNIT', 15, { max: 1000 });
  const concurrency = int('concurrency', 'BENCH_CONCURRENCY', 150, { max: 2000 });
  const shapes = String(pick('shapes', 'BENCH_SHAPES', '1,2'))
    .split(',')
    .map((s) => {
      const n = Number(s.trim());
      if (!Number.isInteger(n) || n < 1 || n > 4) throw new Error(`--shapes must list replica counts in 1..4, got "${s}"`);
      return n;
    });
  const profile = values.profile ?? false;
  const cold = values.cold ?? ['1', 'true'].includes(String(env.BENCH_COLD ?? ''));
  // Node accepts --cpu-prof in NODE_OPTIONS from version 22 on (npm run uses the pinned Node 24).
  if (profile && Number(process.versions.node.split('.')[0]) < 22)
    throw new Error(`--profile needs Node 22 or later (this is ${process.version}): run it through npm run`);
  return { help, units, clicksPerUnit, concurrency, shapes, profile, cold, clicks: units * clicksPerUnit };
}

/** As an admin: risk rules off (every buyer comes from this machine), one product with one flash-sale SKU and its units. */
async function setUp(url, token, units) {
  for (const id of ['ip-velocity', 'user-velocity', 'device-velocity']) {
    await gqlOrThrow(url, `mutation($id: ID!) { setRiskRule(id: $id, enabled: false) { id } }`, { id }, token, 'setRiskRule');
  }
  const created = await gqlOrThrow(
    url,
    `mutation($input: CreateProductInput!) { createProduct(input: $input) { skus { id } } }`,
    {
      input: {
        title: `Flash sale ${new Date().toISOString()}`,
        description: 'created by npm run bench:flash-sale',
        skus: [{ title: 'flash', price: 19900, currency: 'CNY', flashSale: true }],
      },
    },
    token,
    'createProduct',
  );
  const skuId = created.createProduct.skus[0].id;
  await gqlOrThrow(
    url,
    `mutation($s: ID!, $w: ID!, $n: Int!) { setStock(skuId: $s, warehouseId: $w, onHand: $n) { id } }`,
    { s: skuId, w: WAREHOUSE, n: units },
    token,
    'setStock',
  );
  return skuId;
}

/** Opens the sale: registers the SKU with the shared admission and waits until inventory has published its units. */
async function openSale(admission, skuId, units) {
  await admission.register(skuId);
  const deadline = Date.now() + 15_000;
  while ((await admission.state(skuId)).available !== units) {
    if (Date.now() > deadline) throw new SetupError(`inventory did not publish the flash SKU's ${units} units to Redis within 15 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Units of the SKU held or sold in PostgreSQL. */
const unitsTaken = async (reader, skuId) =>
  (
    await reader.query(`SELECT coalesce(sum(reserved + sold), 0)::int AS n, coalesce(min(available), 0)::int AS low FROM inventory.stock WHERE sku_id = $1`, [
      skuId,
    ])
  ).rows[0];

/** The clicks: a pool of `concurrency` workers over distinct buyers; watches the stock to time the sell-out. */
async function runClicks({ url, tokens, skuId, concurrency, reader, units, shouldStop }) {
  const r = {
    refused: new Latencies(),
    admitted: new Latencies(),
    admittedPreview: new Latencies(),
    admittedPlace: new Latencies(),
    preview: new Latencies(),
    outcomes: new Tally(),
    errors: new Tally(),
    admittedAt: [],
    refusedAt: [],
    placed: 0,
    retries: 0,
    soldOutMs: undefined,
    firstRefusalSentMs: undefined,
    wallMs: 0,
  };
  let next = 0;
  const began = performance.now();
  let clicking = true;
  const watcher = (async () => {
    while (clicking || r.soldOutMs === undefined) {
      const taken = await unitsTaken(reader, skuId);
      if (taken.n >= units && r.soldOutMs === undefined) r.soldOutMs = performance.now() - began;
      if (!clicking && performance.now() - began > r.wallMs + 30_000) break;
      await new Promise((res) => setTimeout(res, 50));
    }
  })();
  // Every buyer sends the same preview; the client serialises it once (it shares the machine's cores with the system).
  const client = gatewayClient(url, { connections: concurrency });
  const previewBody = JSON.stringify({ query: PREVIEW, variables: { input: { items: [{ skuId, qty: 1 }] } } });
  /** As a shopper's app does: a call that failed for the system (not a refusal) is sent again, the same way (placeOrder keeps its clientReqId). */
  const call = async (body, token) => {
    for (let attempt = 1; ; attempt++) {
      const res = await client.post(body, token);
      const failed = res.transport || res.code === 'INTERNAL_SERVER_ERROR' || res.code === 'SERVICE_UNAVAILABLE';
      if (!failed || attempt === RETRIES) return res;
      r.retries += 1;
    }
  };
  const click = async (i) => {
    const started = performance.now();
    const preview = await call(previewBody, tokens[i]);
    r.preview.add(preview.ms);
    if (preview.transport || (!preview.errors && !preview.data?.previewOrder)) {
      r.errors.add(`preview ${preview.transport ?? 'EMPTY'}`);
      return;
    }
    if (preview.errors) {
      r.refused.add(performance.now() - started);
      r.refusedAt.push(performance.now() - began);
      r.firstRefusalSentMs = Math.min(r.firstRefusalSentMs ?? Infinity, started - began);
      const reason = preview.errors[0]?.extensions?.reason;
      r.outcomes.add(`${preview.code}${reason ? `/${reason}` : ''}`);
      return;
    }
    r.admittedAt.push(performance.now() - began);
    r.admittedPreview.add(preview.ms);
    const place = await call(
      JSON.stringify({ query: PLACE, variables: { input: { previewId: preview.data.previewOrder.previewId, clientReqId: `flash-${i}` } } }),
      tokens[i],
    );
    if (place.transport || (!place.errors && !place.data?.placeOrder)) {
      r.errors.add(`place ${place.transport ?? 'EMPTY'}`);
      return;
    }
    r.admitted.add(performance.now() - started);
    r.admittedPlace.add(place.ms);
    if (place.errors) {
      const reason = place.errors[0]?.extensions?.reason;
      r.outcomes.add(`admitted, then ${place.code}${reason ? `/${reason}` : ''}`);
      return;
    }
    r.placed += 1;
    r.outcomes.add(`admitted, placed ${place.data.placeOrder.order.status}`);
  };
  const worker = async () => {
    while (!shouldStop()) {
      const i = next++;
      if (i >= tokens.length) return;
      await click(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  r.wallMs = performance.now() - began;
  await client.close();
  clicking = false;
  await watcher;
  return r;
}

/** How fast the edge answered refusals once they began: the cost of a refused click alone. */
function refusalRate(times) {
  if (times.length < 2) return 'n/a';
  const spanMs = Math.max(...times) - Math.min(...times);
  return spanMs > 0 ? `${((times.length / spanMs) * 1000).toFixed(0)} (${times.length} in ${(spanMs / 1000).toFixed(2)} s)` : 'n/a';
}

/** The most admissions in any one second of the run, cluster-wide. */
function peakPerSecond(times) {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let lo = 0, hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi] - sorted[lo] >= 1000) lo++;
    peak = Math.max(peak, hi - lo + 1);
  }
  return peak;
}

async function oneShape({ replicas, options, runId, reader, startStack, interrupted }) {
  say();
  say(`=== ${replicas} gateway${replicas > 1 ? 's' : ''} + ${replicas} order process${replicas > 1 ? 'es' : ''} ===`);
  const suffix = `-r${replicas}`;
  const stack = await startStack(suffix, replicas > 1 ? { replicas: { gateway: replicas, order: replicas } } : {});
  const adminToken = await mintClientToken({ userId: `bench-admin-${runId}${suffix}`, roles: ['admin'] });
  const skuId = await setUp(stack.gatewayUrl, adminToken, options.units).catch((error) => {
    throw new SetupError(error.message);
  });
  // The bench reads and opens the sale under the stack's Redis key prefix (kit redis.ts).
  process.env.SHOP_RUN_ID = `${runId}${suffix}`;
  const redis = createRedis({ name: 'bench-flash-sale' });
  try {
    const admission = new FlashAdmission(redis);
    const buyers = (tag) =>
      Promise.all(Array.from({ length: options.clicks }, (_, i) => mintClientToken({ userId: `fs-${runId}${suffix}-${tag}${i}`, roles: [] })));
    /** One sale's clicks: every buyer once, options.concurrency at a time. */
    const clicksOn = (saleSkuId, tokens) =>
      runClicks({ url: stack.gatewayUrl, tokens, skuId: saleSkuId, concurrency: options.concurrency, reader, units: options.units, shouldStop: interrupted });
    // A shop runs before its sale starts: a sale of the same size on another SKU warms the fresh stack
    // (compiled code, pooled connections, the database's caches) and is printed as the cold stack's figures.
    let warmUp;
    if (!options.cold) {
      const warmSkuId = await setUp(stack.gatewayUrl, adminToken, options.units).catch((error) => {
        throw new SetupError(error.message);
      });
      await openSale(admission, warmSkuId, options.units);
      const warmTokens = await buyers('w');
      say(`warm-up sale (the fresh stack's first traffic, not judged): ${options.units} units, ${warmTokens.length} buyers...`);
      const clicks = await clicksOn(warmSkuId, warmTokens);
      await waitForSettle(reader, 60_000);
      const decided = clicks.refused.count + clicks.admitted.count;
      warmUp = { perS: decided / (clicks.wallMs / 1000), refused: clicks.refused.summary(), admitted: clicks.admitted.summary() };
      say(`warm-up sale: ${warmUp.perS.toFixed(0)} decisions/s, refused p95 ${ms(warmUp.refused.p95)}, admitted p95 ${ms(warmUp.admitted.p95)}`);
      if (interrupted()) return undefined;
    }
    await openSale(admission, skuId, options.units);
    const tokens = await buyers('b');
    say(`sale open: ${options.units} units, ${tokens.length} buyers, ${options.concurrency} clicks in flight`);
    const loadBefore = os.loadavg()[0];
    const countersBefore = await readCounters(stack, reader);
    const cpuBefore = cpuTimes(stack);
    const clicks = await clicksOn(skuId, tokens);
    const loadAfter = os.loadavg()[0];
    const cpu = cpuPerUnit(cpuBefore, cpuTimes(stack), options.clicks);
    const settled = await waitForSettle(reader, 60_000);
    // What the sale cost the database, clicks and their asynchronous reservations alike (the background work of those seconds included).
    const database = difference(countersBefore, await readCounters(stack, reader));
    const orders = (
      await reader.query(
        `SELECT o.status, coalesce(o.cancel_reason, '') AS reason, count(*)::int AS n
           FROM ordering.orders o JOIN ordering.order_item i ON i.order_id = o.id WHERE i.sku_id = $1 GROUP BY 1, 2 ORDER BY 3 DESC`,
        [skuId],
      )
    ).rows;
    const stock = (await reader.query(`SELECT available, reserved, sold FROM inventory.stock WHERE sku_id = $1`, [skuId])).rows;
    const state = await admission.state(skuId);
    return { replicas, clicks, settled, orders, stock, state, loadBefore, loadAfter, cpu, database, stack, warmUp };
  } finally {
    redis.disconnect();
    await stack.stop();
  }
}

/** The figures of one run, and its goals. */
function figures(run, options) {
  const { clicks, orders, stock } = run;
  const decided = clicks.refused.count + clicks.admitted.count;
  const held = stock.reduce((n, r) => n + r.reserved + r.sold, 0);
  const negative = stock.filter((r) => r.available < 0 || r.reserved < 0 || r.sold < 0).length;
  const oversold = Math.max(0, held - options.units) + negative;
  const orderRows = orders.reduce((n, r) => n + r.n, 0);
  const unsettled = orders.filter((r) => r.status === 'CREATED').reduce((n, r) => n + r.n, 0);
  const withoutUnit = Math.max(0, orderRows - held);
  const notServed = Math.max(1, options.clicks - held);
  const refused = clicks.refused.summary();
  const admitted = clicks.admitted.summary();
  const perS = decided / (clicks.wallMs / 1000);
  const rowsPerRefused = withoutUnit / notServed;
  const goals = [
    ['0 oversold', oversold === 0, String(oversold)],
    ['units held = units for sale', held === options.units, `${held} / ${options.units}`],
    [`≥ ${GOALS.decisionsPerS} decisions/s`, perS >= GOALS.decisionsPerS, perS.toFixed(0)],
    [`refused p95 ≤ ${GOALS.refusedP95Ms} ms`, refused.p95 <= GOALS.refusedP95Ms, ms(refused.p95)],
    [`≤ ${GOALS.rowsPerRefused} order rows per refused click`, rowsPerRefused <= GOALS.rowsPerRefused, rowsPerRefused.toFixed(4)],
    ['no order left unsettled', unsettled === 0, String(unsettled)],
  ];
  return { decided, held, oversold, orderRows, unsettled, withoutUnit, refused, admitted, perS, rowsPerRefused, goals };
}

/** Refusals answered while admitted orders were still being created and reserved, and those after the sell-out: where the tail is. */
function refusedAroundSellOut(clicks) {
  const during = new Latencies();
  const after = new Latencies();
  const latencies = clicks.refused.values();
  clicks.refusedAt.forEach((at, i) => (clicks.soldOutMs === undefined || at < clicks.soldOutMs ? during : after).add(latencies[i]));
  const part = (l) => (l.count ? `${ms(l.summary().p95)} (${l.count})` : 'none');
  return `${part(during)} / ${part(after)}`;
}

/** An admitted click's two calls, each on its own: where its time went. */
function admittedSplit(clicks) {
  const preview = clicks.admittedPreview.summary();
  const place = clicks.admittedPlace.summary();
  return `${ms(preview.p50)} / ${ms(preview.p95)}, ${ms(place.p50)} / ${ms(place.p95)}`;
}

function printRun(run, f, options) {
  const { clicks } = run;
  const settings = flashSaleSettings();
  saySummary([
    ...(run.warmUp
      ? [
          ['warm-up sale on the fresh stack (another SKU, same size; not judged)', undefined],
          ['decisions / s, refused p95, admitted p95', `${run.warmUp.perS.toFixed(0)}, ${ms(run.warmUp.refused.p95)}, ${ms(run.warmUp.admitted.p95)}`],
        ]
      : []),
    ['clicks', undefined],
    ['clicks decided / sent', `${f.decided} / ${options.clicks}${clicks.errors.total ? `; errors ${clicks.errors}` : ''}`],
    ['answers', String(clicks.outcomes)],
    ['calls sent again after a failure', String(clicks.retries)],
    ['decisions / s', `${f.perS.toFixed(0)} (wall ${(clicks.wallMs / 1000).toFixed(2)} s)`],
    ['refusals / s (first to last refusal)', refusalRate(clicks.refusedAt)],
    ['refused p50 / p95 / p99', `${ms(f.refused.p50)} / ${ms(f.refused.p95)} / ${ms(f.refused.p99)}  (${f.refused.count})`],
    ['  refused p95 while units were still being taken / after', refusedAroundSellOut(clicks)],
    ['admitted p50 / p95 / p99 (preview + place)', `${ms(f.admitted.p50)} / ${ms(f.admitted.p95)} / ${ms(f.admitted.p99)}  (${f.admitted.count})`],
    ['  of which: preview p50 / p95, place p50 / p95', admittedSplit(clicks)],
    [
      'first refusal sent (the pool busy with admitted clicks until then)',
      clicks.firstRefusalSentMs === undefined ? 'none' : `${(clicks.firstRefusalSentMs / 1000).toFixed(2)} s`,
    ],
    [
      'admissions in the busiest second',
      `${peakPerSecond(clicks.admittedAt)} (the cluster's bound: burst ${settings.burst} + rate ${settings.rate}/s, units ${options.units})`,
    ],
    ['stock and orders', undefined],
    ['time to sell out', clicks.soldOutMs === undefined ? 'not sold out' : `${(clicks.soldOutMs / 1000).toFixed(2)} s`],
    ['units sold (held or sold) / for sale', `${f.held} / ${options.units}`],
    ['oversold', String(f.oversold)],
    ['order rows (by status)', run.orders.map((o) => `${o.status}${o.reason ? `/${o.reason}` : ''} ${o.n}`).join(', ') || 'none'],
    ['order rows per refused click', `${f.rowsPerRefused.toFixed(4)} (${f.withoutUnit} rows without a unit / ${options.clicks - f.held} clicks without one)`],
    [
      'orders left unsettled',
      `${f.unsettled}${run.settled.ms === undefined ? ' (not settled within 60 s)' : ` (settled ${run.settled.ms} ms after the last click)`}`,
    ],
    ['Redis after the sale', `available ${run.state.available}, admitted and waiting ${run.state.pending}, held since the last report ${run.state.held}`],
    ['load average (1 min) before / after', `${run.loadBefore.toFixed(2)} / ${run.loadAfter.toFixed(2)}`],
    ['SQL per unit sold (db_statements_total, db_transactions_total)', undefined],
    [
      'statements / transactions',
      `${(run.database.statements / Math.max(1, f.held)).toFixed(1)} / ${(run.database.transactions / Math.max(1, f.held)).toFixed(2)} (server transactions ${(run.database.server / Math.max(1, f.held)).toFixed(2)})`,
    ],
    ...[...run.database.per]
      .filter(([, v]) => v.statements > 0)
      .sort((a, b) => b[1].statements - a[1].statements)
      .map(([name, v]) => [`  ${name}`, `${(v.statements / Math.max(1, f.held)).toFixed(1)} / ${(v.transactions / Math.max(1, f.held)).toFixed(2)}`]),
    ['CPU per click (ms; each process or server)', undefined],
    ...run.cpu.map(([name, perClick]) => [name, perClick.toFixed(2)]),
    [
      'all of them',
      `${cpuTotal(run.cpu)}; ${((run.cpu.reduce((n, [, perClick]) => n + perClick, 0) * options.clicks) / 1000).toFixed(1)} CPU-s over a ${(run.clicks.wallMs / 1000).toFixed(1)} s wall`,
    ],
    ['goals', undefined],
    ...f.goals.map(([label, ok, value]) => [`${ok ? 'ok  ' : 'FAIL'} ${label}`, value]),
  ]);
}

async function run({ options, runId, reader, startStack, interrupted }) {
  const results = [];
  for (const replicas of options.shapes) {
    if (interrupted()) return 130;
    const r = await oneShape({ replicas, options, runId, reader, startStack, interrupted });
    if (interrupted() || !r) return 130;
    const f = figures(r, options);
    printRun(r, f, options);
    results.push({ r, f });
  }
  if (results.length > 1) {
    const col = (f) => [
      f.perS.toFixed(0),
      ms(f.refused.p95),
      ms(f.admitted.p95),
      f.rowsPerRefused.toFixed(4),
      String(f.held),
      String(f.oversold),
      String(f.unsettled),
    ];
    const labels = ['decisions / s', 'refused p95', 'admitted p95', 'order rows per refused click', 'units sold', 'oversold', 'unsettled'];
    say();
    say(
      table(
        'side by side',
        labels.map((label, i) => [label, results.map(({ r, f }) => `${r.replicas}+${r.replicas}: ${col(f)[i]}`.padEnd(24)).join('')]),
      ),
    );
  }
  say(`\nload average (1 min) at the end: ${os.loadavg()[0].toFixed(2)}`);
  const failed = results.some(({ f }) => f.goals.some(([, ok]) => !ok));
  say(failed ? '\nRESULT: a goal does not hold' : '\nRESULT: every goal holds');
  return failed ? 1 : 0;
}

await runBenchmark({
  title: 'shop flash-sale benchmark',
  usage: USAGE,
  readOptions,
  parameters: (options) => [
    ['units for sale', options.units],
    ['clicks (distinct buyers)', `${options.clicks} (${options.clicksPerUnit} per unit)`],
    ['concurrency', options.concurrency],
    ['runs', options.shapes.map((n) => `${n} gateway + ${n} order`).join(', then ')],
    ['replicas share a port', 'in the kernel (SO_REUSEPORT, kit shared-port.ts), as behind a Kubernetes Service'],
    [
      'warm-up',
      options.cold ? "none (--cold): the measured sale is the fresh stack's first traffic" : 'a sale of the same size on another SKU first, not judged',
    ],
    ['admission', `rate ${flashSaleSettings().rate}/s, burst ${flashSaleSettings().burst}, queue ${flashSaleSettings().queue} (per SKU, cluster-wide)`],
  ],
  ownStacks: true,
  stackEnv: (options, logs) => (options.profile ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${logs}/profiles`.trim() } : {}),
  failureCode: 2,
  run,
});
