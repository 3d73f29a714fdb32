// The database floor of an order: the minimal order transaction, sent through node-pg by as many
// connections as the stack has concurrent buyers, against the same server (a schema of its own in
// the benchmark's database). What the stack does per order can be no faster than this; the benchmark
// prints the stack's rate as a share of it.
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

const SCHEMA = 'bench_floor';
const HOT_SKU = 'sku_floor_hot';
const COLD_SKU = 'sku_floor_cold';
const WAREHOUSE = 'floor-wh';

/**
 * The statements of one order, in one transaction: the idempotency row, the order, its two items
 * (one multi-row INSERT), the conditional reservation of the hot SKU's one stock row, the hold, and
 * one outbox row.
 */
export const FLOOR_TRANSACTION = [
  'BEGIN',
  `INSERT INTO ${SCHEMA}.order_request (user_id, client_req_id, order_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
  `INSERT INTO ${SCHEMA}.orders (id, user_id, status, currency, total, payable, expire_at) VALUES ($1, $2, 'PENDING_PAYMENT', 'CNY', 14800, 14800, now() + interval '15 minutes')`,
  `INSERT INTO ${SCHEMA}.order_item (order_id, sku_id, qty, unit_price) VALUES ($1, $2, 1, 9900), ($1, $3, 1, 4900)`,
  `UPDATE ${SCHEMA}.stock SET available = available - 1, reserved = reserved + 1 WHERE sku_id = $1 AND warehouse_id = $2 AND available >= 1`,
  `INSERT INTO ${SCHEMA}.reservation (id, order_id, sku_id, warehouse_id, qty, state) VALUES ($1, $2, $3, $4, 1, 'HOLD')`,
  `INSERT INTO ${SCHEMA}.outbox (id, type, aggregate_id, payload) VALUES ($1, 'order.created', $2, $3)`,
  'COMMIT',
];

async function createSchema(client) {
  await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await client.query(`CREATE SCHEMA ${SCHEMA}`);
  await client.query(
    `CREATE TABLE ${SCHEMA}.order_request (user_id text, client_req_id text, order_id text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (user_id, client_req_id))`,
  );
  await client.query(
    `CREATE TABLE ${SCHEMA}.orders (id text PRIMARY KEY, user_id text NOT NULL, status text NOT NULL, currency text NOT NULL, total int NOT NULL, payable int NOT NULL, expire_at timestamptz NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
  );
  await client.query(`CREATE INDEX ON ${SCHEMA}.orders (user_id, created_at DESC)`);
  await client.query(
    `CREATE TABLE ${SCHEMA}.order_item (order_id text REFERENCES ${SCHEMA}.orders, sku_id text, qty int NOT NULL, unit_price int NOT NULL, PRIMARY KEY (order_id, sku_id))`,
  );
  await client.query(
    `CREATE TABLE ${SCHEMA}.stock (sku_id text, warehouse_id text, available int NOT NULL CHECK (available >= 0), reserved int NOT NULL, PRIMARY KEY (sku_id, warehouse_id))`,
  );
  await client.query(`INSERT INTO ${SCHEMA}.stock VALUES ($1, $3, 100000000, 0), ($2, $3, 100000000, 0)`, [HOT_SKU, COLD_SKU, WAREHOUSE]);
  await client.query(
    `CREATE TABLE ${SCHEMA}.reservation (id text PRIMARY KEY, order_id text NOT NULL, sku_id text NOT NULL, warehouse_id text NOT NULL, qty int NOT NULL, state text NOT NULL)`,
  );
  await client.query(`CREATE INDEX ON ${SCHEMA}.reservation (order_id)`);
  await client.query(
    `CREATE TABLE ${SCHEMA}.outbox (id uuid PRIMARY KEY, type text NOT NULL, aggregate_id text NOT NULL, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), published_at timestamptz)`,
  );
  await client.query(`CREATE INDEX ON ${SCHEMA}.outbox (created_at) WHERE published_at IS NULL`);
}

async function oneOrder(client, worker, n) {
  const userId = `floor-u${worker}`;
  const orderId = `ord_${randomBytes(12).toString('hex')}`;
  const [begin, request, order, items, reserve, hold, outbox, commit] = FLOOR_TRANSACTION;
  await client.query(begin);
  try {
    await client.query(request, [userId, `req-${n}`, orderId]);
    await client.query(order, [orderId, userId]);
    await client.query(items, [orderId, HOT_SKU, COLD_SKU]);
    const taken = await client.query(reserve, [HOT_SKU, WAREHOUSE]);
    if (taken.rowCount !== 1) throw new Error('the floor ran out of stock');
    await client.query(hold, [`rsv_${randomBytes(12).toString('hex')}`, orderId, HOT_SKU, WAREHOUSE]);
    await client.query(outbox, [
      randomUUID(),
      orderId,
      JSON.stringify({
        orderId,
        userId,
        items: [
          { skuId: HOT_SKU, qty: 1 },
          { skuId: COLD_SKU, qty: 1 },
        ],
      }),
    ]);
    await client.query(commit);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * Runs the floor for `durationS` seconds with `concurrency` connections and drops its schema.
 * @returns {Promise<{ transactions: number, wallMs: number, rate: number, statementsPerTransaction: number }>}
 */
export async function runFloor({ databaseUrl, concurrency, durationS, shouldStop = () => false }) {
  const admin = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-floor' });
  await admin.connect();
  const clients = [];
  try {
    await createSchema(admin);
    for (let i = 0; i < concurrency; i++) {
      const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-floor' });
      await client.connect();
      clients.push(client);
    }
    let transactions = 0;
    let sequence = 0;
    const began = performance.now();
    const deadline = began + durationS * 1000;
    await Promise.all(
      clients.map(async (client, worker) => {
        while (performance.now() < deadline && !shouldStop()) {
          await oneOrder(client, worker, sequence++);
          transactions += 1;
        }
      }),
    );
    const wallMs = performance.now() - began;
    return { transactions, wallMs, rate: (transactions * 1000) / wallMs, statementsPerTransaction: FLOOR_TRANSACTION.length - 2 };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => {});
    await admin.end().catch(() => {});
  }
}
