// npm run bench:growth: does the cost stay flat as the tables fill? Loads the benchmark's own database to
// 10^4, 10^5 and 10^6 orders (each with its idempotency key, 2 items, 3 audit rows, an outbox and an inbox row, a payment and,
// unless canceled, a shipment with 2 items; generated
// with SQL, spread over half a year of weekly partitions, not through the API), lets retention prune
// the outbox and inbox, and at each size measures through the whole running system: placeOrder p95
// through the gateway, a user's order list p95 (alone, and with each order's payment and shipments), the outbox relay's publish latency p95 and the order
// timeout sweep (its query, and the time it takes to cancel a batch of expired orders). Prints each
// figure per size, the ratio largest/smallest (goal: every ratio <= 1.5), the rows the outbox and
// inbox keep against the bound retention promises, and the load average.
import os from 'node:os';
import pg from 'pg';
import { performance } from 'node:perf_hooks';
import { gql, gqlOrThrow } from './gateway-client.mjs';
import { readFlags } from './flags.mjs';
import { mintClientToken, runBenchmark, say, saySummary, seconds, SetupError } from './harness.mjs';
import { runLoad } from './load.mjs';
import { Latencies, ms } from './stats.mjs';

const GOAL_RATIO = 1.5;
const HISTORY_DAYS = 182;
const ORDERS_PER_USER = 20;
const OUTBOX_RETENTION_HOURS = 24;
const INBOX_HORIZON_HOURS = 168;

export const USAGE = `usage: npm run bench:growth -- [options]

Loads the database to each size (orders with items, audit rows, outbox and inbox rows, by SQL) and
measures placeOrder, a user's order list, the relay's publish latency and the timeout sweep at each.

  --sizes <n,n,...>     order counts to measure at, ascending (default 10000,100000,1000000; BENCH_SIZES)
  --orders <n>          placeOrder calls measured at each size (default 300; BENCH_ORDERS)
  --concurrency <n>     concurrent placeOrder calls (default 4; BENCH_CONCURRENCY)
  --lists <n>           order lists read at each size (default 300; BENCH_LISTS)
  --events <n>          outbox events timed through the relay at each size (default 300; BENCH_EVENTS)
  --expired <n>         expired orders the timeout sweep cancels at each size (default 300, at least 101: more than one sweep batch; BENCH_EXPIRED)
  -h, --help            this text

Starts its own stack on free ports against a database it creates and drops (DATABASE_URL names the server).`;

function readOptions(argv = process.argv.slice(2), env = process.env) {
  let flags;
  try {
    flags = readFlags(argv, env, {
      sizes: { type: 'string' },
      orders: { type: 'string' },
      concurrency: { type: 'string' },
      lists: { type: 'string' },
      events: { type: 'string' },
      expired: { type: 'string' },
    });
  } catch (error) {
    say(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  const { pick, int, help } = flags;
  try {
    const sizes = String(pick('sizes', 'BENCH_SIZES', '10000,100000,1000000'))
      .split(',')
      .map((s) => Number(s.trim()));
    if (sizes.length < 2 || sizes.some((n) => !Number.isInteger(n) || n < 1000 || n > 10_000_000) || sizes.some((n, i) => i > 0 && n <= sizes[i - 1]))
      throw new Error('--sizes must be at least two ascending whole numbers from 1000 to 10000000, comma-separated');
    return {
      help,
      sizes,
      orders: int('orders', 'BENCH_ORDERS', 300, { min: 20, max: 100_000 }),
      concurrency: int('concurrency', 'BENCH_CONCURRENCY', 4, { min: 1, max: 200 }),
      lists: int('lists', 'BENCH_LISTS', 300, { min: 20, max: 100_000 }),
      events: int('events', 'BENCH_EVENTS', 300, { min: 20, max: 100_000 }),
      expired: int('expired', 'BENCH_EXPIRED', 300, { min: 101, max: 10_000 }),
    };
  } catch (error) {
    say(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
}

// The stack prunes quickly here, so each size is measured with the outbox and inbox as retention keeps them.
process.env.RETENTION_INTERVAL_MS = '3000';
process.env.RETENTION_BATCH_SIZE = '20000';
process.env.RETENTION_MAX_BATCHES = '1000';
process.env.OUTBOX_RETENTION_HOURS = String(OUTBOX_RETENTION_HOURS);
process.env.INBOX_DEDUP_HORIZON_HOURS = String(INBOX_HORIZON_HOURS);

/** The partitioned tables, by schema: the parent first, the SQL functions of their id bounds, the id prefix. */
const PARTITION_SETS = [
  { schema: 'ordering', tables: ['orders', 'order_item', 'order_event'], floor: 'order_id_floor', time: 'order_id_time', prefix: 'ord' },
  { schema: 'payment', tables: ['payment'], floor: 'payment_id_floor', time: 'payment_id_time', prefix: 'pay' },
  { schema: 'fulfillment', tables: ['shipment', 'shipment_item'], floor: 'shipment_id_floor', time: 'shipment_id_time', prefix: 'shp' },
];

/**
 * The history as if the system had run for half a year: each migration's catch-all partition (empty in a
 * new database) is replaced by one below the history and a partition per week of it, as the partition
 * jobs would have made them. Answers the partitions of ordering.orders.
 */
async function partitionHistory(db) {
  for (const { schema, tables, floor, time, prefix } of PARTITION_SETS) {
    const list = tables.map((t) => `'${t}'`).join(', ');
    const childrenFirst = [...tables]
      .reverse()
      .map((t) => `'${t}'`)
      .join(', ');
    await db.query(`
      DO $$
      DECLARE
        t text;
        starts timestamptz := date_trunc('day', now()) - interval '${HISTORY_DAYS} days';
        ends timestamptz;
        first_to text;
      BEGIN
        SELECT substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \\(''(${prefix}_[0-9a-f]{32})''\\)') INTO first_to
          FROM pg_class c WHERE c.oid = '${schema}.${tables[0]}_p_before'::regclass;
        FOREACH t IN ARRAY ARRAY[${childrenFirst}] LOOP
          EXECUTE format('ALTER TABLE ${schema}.%I DETACH PARTITION ${schema}.%I', t, t || '_p_before');
          EXECUTE format('DROP TABLE ${schema}.%I', t || '_p_before');
        END LOOP;
        FOREACH t IN ARRAY ARRAY[${list}] LOOP
          EXECUTE format('CREATE TABLE ${schema}.%I PARTITION OF ${schema}.%I FOR VALUES FROM (MINVALUE) TO (%L)', t || '_p_before', t, ${schema}.${floor}(starts));
        END LOOP;
        WHILE ${schema}.${floor}(starts) < first_to LOOP
          ends := least(starts + interval '7 days', ${schema}.${time}(first_to));
          FOREACH t IN ARRAY ARRAY[${list}] LOOP
            EXECUTE format('CREATE TABLE ${schema}.%I PARTITION OF ${schema}.%I FOR VALUES FROM (%L) TO (%L)',
              t || '_h' || to_char(starts AT TIME ZONE 'UTC', 'YYYYMMDD'), t, ${schema}.${floor}(starts), ${schema}.${floor}(ends));
          END LOOP;
          starts := ends;
        END LOOP;
      END $$`);
  }
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'ordering.orders'::regclass`);
  return rows[0].n;
}

/** Generates orders numbered [from, to): user gu<n / 20>, created at a random moment of the history, with their rows. */
async function generate(db, from, to) {
  // Rows in time order (so in id order): each partition's indexes grow at their end instead of at random places.
  const chunk = 100_000;
  for (let start = from; start < to; start += chunk) {
    const end = Math.min(to, start + chunk);
    await db.query(
      `WITH g AS (
         SELECT n, now() - random() * interval '${HISTORY_DAYS} days' AS t FROM generate_series($1::bigint, $2::bigint - 1) n
       ), o AS (
         INSERT INTO ordering.orders (id, user_id, status, cancel_reason, currency, total, discount, shipping_fee, payable, preview_id, flash_sale, expire_at, created_at, updated_at)
         SELECT substr(ordering.order_id_floor(t), 1, 16) || substr(md5(n::text || 'o'), 1, 20), 'gu' || (n / ${ORDERS_PER_USER}),
                CASE n % 10 WHEN 0 THEN 'CANCELED' WHEN 1 THEN 'PAID' ELSE 'COMPLETED' END,
                CASE n % 10 WHEN 0 THEN 'PAYMENT_TIMEOUT' END,
                'CNY', 5900, 0, 800, 6700, 'pvw_' || md5(n::text || 'p'), false, t + interval '15 minutes', t, t + interval '1 day'
           FROM g ORDER BY t
         RETURNING id, user_id, status, created_at
       ), pay AS (
         INSERT INTO payment.payment (id, order_id, user_id, amount, currency, status, payment_txn_id, created_at, updated_at)
         SELECT substr(payment.payment_id_floor(created_at + interval '2 minutes'), 1, 16) || substr(md5(id || 'pay'), 1, 20), id, user_id, 6700, 'CNY',
                CASE status WHEN 'CANCELED' THEN 'FAILED' ELSE 'SUCCEEDED' END,
                CASE WHEN status <> 'CANCELED' THEN 'txn_' || md5(id || 'txn') END, created_at + interval '2 minutes', created_at + interval '3 minutes'
           FROM o
       ), s AS (
         INSERT INTO fulfillment.shipment (id, order_id, user_id, warehouse_id, status, created_at, updated_at)
         SELECT substr(fulfillment.shipment_id_floor(created_at + interval '4 minutes'), 1, 16) || substr(md5(id || 'shp'), 1, 20), id, user_id, 'growth-wh',
                CASE status WHEN 'COMPLETED' THEN 'DELIVERED' ELSE 'PENDING' END, created_at + interval '4 minutes', created_at + interval '1 day'
           FROM o WHERE status <> 'CANCELED'
         RETURNING id
       ), si AS (
         INSERT INTO fulfillment.shipment_item (shipment_id, sku_id, qty, unit_price, currency)
         SELECT id, 'sku_' || md5(k::text), k, 2950, 'CNY' FROM s, generate_series(1, 2) k
       ), i AS (
         INSERT INTO ordering.order_item (order_id, sku_id, qty, unit_price)
         SELECT id, 'sku_' || md5(k::text), k, 2950 FROM o, generate_series(1, 2) k
       ), e AS (
         INSERT INTO ordering.order_event (id, order_id, event_type, from_status, to_status, version, created_at)
         SELECT 'evt_' || md5(id || k), id, (ARRAY['ORDER_CREATED', 'STOCK_RESERVED', 'PAID'])[k], (ARRAY[NULL, 'CREATED', 'PENDING_PAYMENT'])[k],
                (ARRAY['CREATED', 'PENDING_PAYMENT', 'PAID'])[k], k, created_at + k * interval '1 minute'
           FROM o, generate_series(1, 3) k
       ), ob AS (
         INSERT INTO ordering.outbox (event_id, type, routing_key, body, created_at, published_at, attempts)
         SELECT 'evt_' || md5(id || 'out'), 'order.created', 'order.created', '{}', created_at, created_at + interval '50 milliseconds', 1 FROM o
       ), rq AS (
         INSERT INTO ordering.order_request (user_id, client_req_id, order_id, preview_id, created_at)
         SELECT user_id, 'req-' || md5(id || 'req'), id, 'pvw_' || md5(id || 'p'), created_at FROM o
       ), ib AS (
         INSERT INTO ordering.inbox (consumer, event_id, type, processed_at)
         SELECT 'order.saga', 'evt_' || md5(id || 'in'), 'payment.succeeded', created_at + interval '5 minutes' FROM o
       )
       SELECT count(*) FROM o`,
      [start, end],
    );
  }
}

/**
 * Measures the steady state, not the aftermath of a bulk load: vacuums and analyzes what was loaded
 * and pruned (as autovacuum would have by then), waits until no autovacuum worker runs in this
 * database, then checkpoints, so the bulk load's dirty pages are not written out (a checkpoint forced
 * by max_wal_size, spread over minutes) while the next size is measured. Answers how long it took (ms).
 */
async function settle(db) {
  const started = Date.now();
  await db.query(
    'VACUUM (ANALYZE) ordering.orders, ordering.order_request, ordering.order_item, ordering.order_event, ordering.outbox, ordering.inbox, payment.payment, payment.payment_key, fulfillment.shipment, fulfillment.shipment_item, fulfillment.shipment_key',
  );
  const deadline = Date.now() + 5 * 60_000;
  while (Date.now() < deadline) {
    const busy = await count(db, `SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND datname = current_database()`);
    if (busy === 0) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await db.query('CHECKPOINT');
  return Date.now() - started;
}

const count = async (db, query) => Number((await db.query(query)).rows[0].n);
/** The bytes of a schema's tables (partitions included), with their indexes and TOAST. */
const schemaBytes = (db, schema) =>
  count(
    db,
    `SELECT sum(pg_total_relation_size(c.oid)) AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = '${schema}' AND c.relkind = 'r'`,
  );

/** Waits until retention pruned everything past its window; answers how long it took (ms). */
async function waitForRetention(db, timeoutMs = 15 * 60_000) {
  const started = Date.now();
  for (;;) {
    const waiting =
      (await count(db, `SELECT count(*) AS n FROM ordering.outbox WHERE published_at < now() - interval '${OUTBOX_RETENTION_HOURS} hours'`)) +
      (await count(db, `SELECT count(*) AS n FROM ordering.inbox WHERE processed_at < now() - interval '${INBOX_HORIZON_HOURS} hours'`));
    if (waiting === 0) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new SetupError(`retention did not prune the history within ${seconds(timeoutMs)} (${waiting} rows waiting)`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const ORDER_LIST = `query Orders { orders(first: 20) { edges { node { id status } } pageInfo { hasNextPage } } }`;
/** The order list with what the payment and fulfillment subgraphs add to each order (their lookups by order id). */
const ORDER_LIST_WITH_PAYMENTS = `query Orders { orders(first: 20) { edges { node { id status payment { status } shipments { status } } } pageInfo { hasNextPage } } }`;

/** p95 of `orders(first: 20)` (the `query` given) for generated users, through the gateway. */
async function measureLists(url, users, n, concurrency, query = ORDER_LIST) {
  const tokens = await Promise.all(
    Array.from({ length: Math.min(n, 50) }, (_, i) => mintClientToken({ userId: `gu${Math.floor((i * users) / 50)}`, roles: [] })),
  );
  const latencies = new Latencies();
  let next = 0;
  let errors = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const res = await gql(url, query, {}, tokens[i % tokens.length]);
      if (res.errors || res.transport || !res.data?.orders || res.data.orders.edges.length === 0) errors += 1;
      else latencies.add(res.ms);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ...latencies.summary(), errors };
}

/** Events written to the outbox in small transactions; their publish latency is published_at - created_at. */
async function measureRelay(db, n, tag) {
  const per = 10;
  for (let i = 0; i < n; i += per) {
    await db.query(
      `INSERT INTO ordering.outbox (event_id, type, routing_key, body)
       SELECT 'evt_' || md5($1 || k), 'payment.failed', 'payment.failed', '{}' FROM generate_series($2::int, $3::int - 1) k`,
      [tag, i, Math.min(n, i + per)],
    );
    await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const left = await count(db, `SELECT count(*) AS n FROM ordering.outbox WHERE type = 'payment.failed' AND published_at IS NULL`);
    if (left === 0) break;
    if (Date.now() > deadline) throw new SetupError(`the relay left ${left} events unpublished for a minute`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const { rows } = await db.query(
    `SELECT extract(epoch FROM published_at - created_at) * 1000 AS ms FROM ordering.outbox WHERE type = 'payment.failed' AND event_id IN (SELECT 'evt_' || md5($1 || k) FROM generate_series(0, $2::int - 1) k)`,
    [tag, n],
  );
  const latencies = new Latencies();
  for (const r of rows) latencies.add(Number(r.ms));
  return latencies.summary();
}

/**
 * The timeout sweep: its query (median of 15 EXPLAIN ANALYZE runs, rolled back), and how long the
 * running sweep takes to cancel a batch of expired orders (from its first cancel to its last, by the
 * audit rows' clock; more than one transaction of 100, so its later queries are included).
 */
async function measureSweep(db, n, tag) {
  const runs = [];
  for (let i = 0; i < 15; i++) {
    await db.query('BEGIN');
    const plan = await db.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM ordering.orders WHERE status IN ('CREATED', 'PENDING_PAYMENT')
         AND expire_at <= now() - make_interval(secs => 300) ORDER BY expire_at LIMIT 100 FOR UPDATE SKIP LOCKED`,
    );
    await db.query('ROLLBACK');
    runs.push(plan.rows[0]['QUERY PLAN'][0]['Execution Time']);
  }
  const queryMs = runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  await db.query(
    `WITH o AS (
       INSERT INTO ordering.orders (id, user_id, status, currency, total, discount, shipping_fee, payable, preview_id, flash_sale, expire_at)
       SELECT substr(ordering.order_id_floor(now()), 1, 16) || substr(md5($1 || k), 1, 20), 'sweep-' || $1, 'PENDING_PAYMENT', 'CNY', 100, 0, 0, 100, 'pvw_x', false, now() - interval '1 hour'
         FROM generate_series(1, $2::int) k
       RETURNING id
     )
     INSERT INTO ordering.order_item (order_id, sku_id, qty, unit_price) SELECT id, 'sku_sweep', 1, 100 FROM o`,
    [tag, n],
  );
  const deadline = Date.now() + 120_000;
  for (;;) {
    const left = await count(db, `SELECT count(*) AS n FROM ordering.orders WHERE user_id = 'sweep-${tag}' AND status = 'PENDING_PAYMENT'`);
    if (left === 0) break;
    if (Date.now() > deadline) throw new SetupError(`the timeout sweep left ${left} expired orders for two minutes`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const { rows } = await db.query(
    `SELECT extract(epoch FROM max(e.created_at) - min(e.created_at)) * 1000 AS ms
       FROM ordering.order_event e JOIN ordering.orders o ON o.id = e.order_id
      WHERE o.user_id = 'sweep-' || $1 AND e.to_status = 'CANCELED'`,
    [tag],
  );
  return { queryMs, batchMs: Number(rows[0].ms) };
}

async function setUp(url, token) {
  for (const id of ['ip-velocity', 'user-velocity', 'device-velocity']) {
    await gqlOrThrow(url, `mutation($id: ID!) { setRiskRule(id: $id, enabled: false) { id } }`, { id }, token, 'setRiskRule');
  }
  const created = await gqlOrThrow(
    url,
    `mutation($input: CreateProductInput!) { createProduct(input: $input) { id skus { id } } }`,
    {
      input: {
        title: `Growth bench product ${new Date().toISOString()}`,
        description: 'created by npm run bench:growth',
        skus: [
          { title: 'a', price: 2900, currency: 'CNY', flashSale: false },
          { title: 'b', price: 4900, currency: 'CNY', flashSale: false },
        ],
      },
    },
    token,
    'createProduct',
  );
  const skus = created.createProduct.skus.map((s) => s.id);
  for (const s of skus) {
    await gqlOrThrow(url, `mutation($s: ID!) { setStock(skuId: $s, warehouseId: "growth-wh", onHand: 1000000) { id } }`, { s }, token, 'setStock');
  }
  return skus;
}

async function run({ options, stack, database, runId, interrupted, onCleanup }) {
  const db = new pg.Client({ connectionString: database.url, application_name: 'bench-growth-loader' });
  await db.connect();
  onCleanup(() => db.end().catch(() => {}));
  const admin = await mintClientToken({ userId: `growth-admin-${runId}`, roles: ['admin'] });
  const [hot, cold] = await setUp(stack.gatewayUrl, admin).catch((error) => {
    throw new SetupError(error.message);
  });
  const buyers = await Promise.all(Array.from({ length: 20 }, (_, u) => mintClientToken({ userId: `growth-${runId}-u${u}`, roles: [] })));
  say(`history: ${await partitionHistory(db)} partitions of ordering.orders (${HISTORY_DAYS} days of weekly partitions, the catch-all below, and those ahead)`);

  const place = (total, i) =>
    runLoad({
      url: stack.gatewayUrl,
      tokens: buyers,
      hotSkuId: hot,
      coldSkuIds: [cold],
      qty: 1,
      total,
      concurrency: options.concurrency,
      deadline: Date.now() + 600_000,
      runId: `${runId}-s${i}`,
      shouldStop: interrupted,
    });
  say('warming up (placeOrder; the order lists warm up on the first size)...');
  await place(Math.min(100, options.orders), 'warm');

  const results = [];
  let loaded = 0;
  for (const [i, size] of options.sizes.entries()) {
    if (interrupted()) return 130;
    say();
    const began = performance.now();
    await generate(db, loaded, size);
    loaded = size;
    const loadMs = performance.now() - began;
    const pruneMs = await waitForRetention(db);
    const settleMs = await settle(db);
    const rows = {
      orders: await count(db, 'SELECT count(*) AS n FROM ordering.orders'),
      outbox: await count(db, 'SELECT count(*) AS n FROM ordering.outbox'),
      inbox: await count(db, 'SELECT count(*) AS n FROM ordering.inbox'),
      bytes: await schemaBytes(db, 'ordering'),
      payments: await count(db, 'SELECT count(*) AS n FROM payment.payment'),
      paymentBytes: await schemaBytes(db, 'payment'),
      shipments: await count(db, 'SELECT count(*) AS n FROM fulfillment.shipment'),
      shipmentBytes: await schemaBytes(db, 'fulfillment'),
    };
    say(
      `size ${size}: loaded in ${seconds(loadMs)}, retention pruned the history in ${seconds(pruneMs)}, vacuum settled in ${seconds(settleMs)}; ${rows.orders} orders, outbox ${rows.outbox} rows, inbox ${rows.inbox} rows, ordering schema ${(rows.bytes / 2 ** 20).toFixed(0)} MiB`,
    );
    const load = await place(options.orders, i);
    if (i === 0) {
      // The order lists' code paths (the subgraphs' JIT, the gateway's query plans, their pools) warm up
      // on a discarded pass, as placeOrder did before the first size: otherwise the first size's figures
      // carry the warm-up and every ratio against it looks better than it is.
      const users = Math.floor(size / ORDERS_PER_USER);
      const warm = Math.min(100, options.lists);
      await measureLists(stack.gatewayUrl, users, warm, options.concurrency);
      await measureLists(stack.gatewayUrl, users, warm, options.concurrency, ORDER_LIST_WITH_PAYMENTS);
    }
    const lists = await measureLists(stack.gatewayUrl, Math.floor(size / ORDERS_PER_USER), options.lists, options.concurrency);
    const fullLists = await measureLists(stack.gatewayUrl, Math.floor(size / ORDERS_PER_USER), options.lists, options.concurrency, ORDER_LIST_WITH_PAYMENTS);
    const relay = await measureRelay(db, options.events, `${runId}-r${i}`);
    const sweep = await measureSweep(db, options.expired, `${runId}-t${i}`);
    const place95 = load.placeLatency.summary();
    const perSecond = load.placed / (load.wallMs / 1000);
    const result = { size, rows, place: place95, perSecond, placeErrors: load.errors.total, lists, fullLists, relay, sweep, loadAverage: os.loadavg()[0] };
    results.push(result);
    say(
      `size ${size}: placeOrder p95 ${ms(place95.p95)} (${place95.count} calls, ${load.errors.total} errors, ${perSecond.toFixed(1)} orders/s); order list p95 ${ms(lists.p95)} (${lists.count} reads, ${lists.errors} errors), with payments and shipments ${ms(fullLists.p95)} (${fullLists.errors} errors); relay publish p50 ${ms(relay.p50)} p95 ${ms(relay.p95)}; sweep query ${ms(sweep.queryMs)}, ${options.expired} expired orders canceled in ${ms(sweep.batchMs)}; load average ${result.loadAverage.toFixed(2)}`,
    );
  }

  printSummary(options, results);
  const ok = figures(results).every((f) => f.ok) && bounds(results, options).every((b) => b.ok);
  say(ok ? '\nRESULT: every goal holds' : '\nRESULT: a goal does not hold');
  return ok ? 0 : 1;
}

/** The measured figures, each with its per-size values and the ratio largest size / smallest size. */
function figures(results) {
  const first = results[0];
  const last = results.at(-1);
  const figure = (label, pick) => {
    const ratio = pick(last) / pick(first);
    return { label, values: results.map(pick), ratio, ok: ratio <= GOAL_RATIO };
  };
  return [
    figure('placeOrder p95 through the gateway', (r) => r.place.p95),
    figure("a user's order list p95", (r) => r.lists.p95),
    figure("a user's order list with payments and shipments p95", (r) => r.fullLists.p95),
    figure('relay publish latency p95', (r) => r.relay.p95),
    { ...figure('relay publish latency p50', (r) => r.relay.p50), ok: true, reference: true },
    figure('timeout sweep: query', (r) => r.sweep.queryMs),
    figure('timeout sweep: batch of expired orders canceled', (r) => r.sweep.batchMs),
  ];
}

/**
 * The rows retention lets the outbox and inbox keep: the history's rate (orders spread over HISTORY_DAYS)
 * times the window, plus what the benchmark itself wrote, with 20 % for the randomness of the spread.
 */
function bounds(results, options) {
  return results.flatMap((r) => {
    const perHour = r.size / (HISTORY_DAYS * 24);
    const own = (options.orders + options.events + options.expired) * 4 * results.length + 1000;
    return [
      { label: `outbox rows at ${r.size}`, rows: r.rows.outbox, bound: Math.ceil(perHour * OUTBOX_RETENTION_HOURS * 1.2 + own) },
      { label: `inbox rows at ${r.size}`, rows: r.rows.inbox, bound: Math.ceil(perHour * INBOX_HORIZON_HOURS * 1.2 + own) },
    ].map((b) => ({ ...b, ok: b.rows <= b.bound }));
  });
}

function printSummary(options, results) {
  const sizes = results.map((r) => r.size);
  const rows = [
    ['figures per size', undefined],
    ['sizes (orders)', sizes.join(' / ')],
    ...figures(results).map((f) => [
      f.label,
      `${f.values.map((v) => ms(v)).join(' / ')}  ratio ${f.ratio.toFixed(2)}  ${f.reference ? '(for reference, no goal)' : `${f.ok ? 'ok' : 'ABOVE'} (goal <= ${GOAL_RATIO})`}`,
    ]),
    ['orders placed / s (concurrency, for the capacity model)', results.map((r) => r.perSecond.toFixed(1)).join(' / ')],
    ['bytes per order (ordering schema / orders)', results.map((r) => `${Math.round(r.rows.bytes / r.rows.orders)} B`).join(' / ')],
    ['bytes per payment (payment schema / payments)', results.map((r) => `${Math.round(r.rows.paymentBytes / r.rows.payments)} B`).join(' / ')],
    ['bytes per shipment (fulfillment schema / shipments)', results.map((r) => `${Math.round(r.rows.shipmentBytes / r.rows.shipments)} B`).join(' / ')],
    ['errors (placeOrder / order list / with payments)', results.map((r) => `${r.placeErrors}/${r.lists.errors}/${r.fullLists.errors}`).join(' / ')],
    ['retention', undefined],
    ...bounds(results, options).map((b) => [b.label, `${b.rows} <= ${b.bound}: ${b.ok ? 'ok' : 'ABOVE'}`]),
    ['policy', `outbox: published rows kept ${OUTBOX_RETENTION_HOURS} h; inbox: ${INBOX_HORIZON_HOURS} h (rows <= events per hour x window)`],
    ['ordering schema size', results.map((r) => `${(r.rows.bytes / 2 ** 20).toFixed(0)} MiB`).join(' / ')],
    ['machine', undefined],
    ['load average (1 min) per size', results.map((r) => r.loadAverage.toFixed(2)).join(' / ')],
    ['load average (1 min) at the end', os.loadavg()[0].toFixed(2)],
  ];
  saySummary(rows);
}

await runBenchmark({
  title: 'shop growth benchmark',
  usage: USAGE,
  readOptions,
  parameters: (options) => [
    ['sizes (orders)', options.sizes.join(', ')],
    [
      'per order',
      `its idempotency key, 2 items, 3 audit rows, 1 outbox and 1 inbox row, 1 payment, 1 shipment with 2 items (none for a canceled order); ${ORDERS_PER_USER} orders per user; ${HISTORY_DAYS} days of history`,
    ],
    [
      'measured per size',
      `${options.orders} placeOrder (concurrency ${options.concurrency}), ${options.lists} order lists, ${options.events} relay events, ${options.expired} expired orders`,
    ],
  ],
  failureCode: 2,
  run,
});
