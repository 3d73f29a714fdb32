// The benchmark's own PostgreSQL database (created, then dropped), and its read-only checks of what the
// system wrote: it waits for the asynchronous paths to settle, then reads stock and orders in one snapshot.
import pg from 'pg';

/** Creates shop_bench_<timestamp> on the server of `serverUrl`; `drop()` removes it (idempotent). */
export async function createBenchDatabase(serverUrl) {
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const name = `shop_bench_${Date.now()}`;
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(admin.toString());
  url.pathname = `/${name}`;
  let dropped;
  return {
    name,
    url: url.toString(),
    drop: () =>
      (dropped ??= (async () => {
        const c = new pg.Client({ connectionString: admin.toString() });
        await c.connect();
        try {
          await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        } finally {
          await c.end();
        }
      })()),
  };
}

/** A read-only connection to the benchmark database. */
export async function openReader(url) {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-reader' });
  await client.connect();
  await client.query('SET default_transaction_read_only = on');
  return client;
}

export async function serverVersion(client) {
  return (await client.query('SHOW server_version')).rows[0].server_version;
}

/**
 * Waits until no order is still CREATED (a synchronous reservation that did not answer finishes on the
 * asynchronous path) and every outbox row is published. Returns how long that took, or undefined on timeout.
 */
export async function waitForSettle(client, timeoutMs = 30_000) {
  const started = Date.now();
  const schemas = (await client.query(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox' ORDER BY 1`)).rows.map(
    (r) => r.table_schema,
  );
  const pendingOutbox = schemas.map((s) => `(SELECT count(*) FROM "${s}".outbox WHERE published_at IS NULL)`).join(' + ') || '0';
  for (;;) {
    const { rows } = await client.query(
      `SELECT (SELECT count(*) FROM ordering.orders WHERE status = 'CREATED')::int AS created, (${pendingOutbox})::int AS outbox`,
    );
    if (rows[0].created === 0 && rows[0].outbox === 0) return { ms: Date.now() - started, ...rows[0] };
    if (Date.now() - started > timeoutMs) return { ms: undefined, ...rows[0] };
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Stock rows, reservation sums (the same rule as subgraphs/inventory/src/domain/invariants.ts) and orders,
 * read in one REPEATABLE READ snapshot so they are compared at one instant.
 */
export async function readSnapshot(client, skuIds) {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const stock = (
      await client.query(
        `WITH r AS (
           SELECT sku_id, warehouse_id, bucket,
                  coalesce(sum(qty) FILTER (WHERE state = 'HOLD'), 0)::int AS held,
                  coalesce(sum(qty - returned) FILTER (WHERE state = 'CONFIRMED'), 0)::int AS confirmed
             FROM inventory.reservation WHERE sku_id = ANY($1) GROUP BY sku_id, warehouse_id, bucket)
         SELECT s.sku_id AS "skuId", s.warehouse_id AS "warehouseId", s.available, s.reserved, s.sold,
                coalesce(r.held, 0) AS held, coalesce(r.confirmed, 0) AS confirmed
           FROM inventory.stock s LEFT JOIN r ON r.sku_id = s.sku_id AND r.warehouse_id = s.warehouse_id AND r.bucket = s.bucket
          WHERE s.sku_id = ANY($1) ORDER BY 1, 2, s.bucket`,
        [skuIds],
      )
    ).rows;
    const statuses = (
      await client.query(`SELECT status, coalesce(cancel_reason, '') AS reason, count(*)::int AS n FROM ordering.orders GROUP BY 1, 2 ORDER BY 3 DESC`)
    ).rows;
    const pendingQty = (
      await client.query(
        `SELECT i.sku_id AS "skuId", sum(i.qty)::int AS qty
           FROM ordering.order_item i JOIN ordering.orders o ON o.id = i.order_id
          WHERE o.status = 'PENDING_PAYMENT' GROUP BY 1`,
      )
    ).rows;
    const holdsByOrder = (await client.query(`SELECT count(*)::int AS n FROM inventory.reservation_order WHERE state = 'HOLD'`)).rows[0].n;
    return { stock, statuses, pendingQty: new Map(pendingQty.map((r) => [r.skuId, r.qty])), holdsByOrder };
  } finally {
    await client.query('COMMIT');
  }
}
