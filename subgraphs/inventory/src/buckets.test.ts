import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, openDatabase, registry } from '@shop/kit';
import { FLASH_STOCK_BUCKETS, spread, takeRebalanced } from './domain/buckets.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDemoStock } from './domain/demo.js';
import { stockInvariantViolations } from './domain/invariants.js';
import { confirm, release, reserve } from './domain/reservations.js';
import { returnStopped } from './domain/returns.js';
import { setOnHand, stockBySkus } from './domain/stock.js';
import { database } from './persistence.js';

let orm: Awaited<ReturnType<typeof openDatabase>>;
beforeAll(async () => {
  orm = await openDatabase(database);
});
afterAll(async () => {
  await orm?.close();
});

const wh = (name: string) => `${name}-${Date.now().toString(36)}`;
const inAnHour = () => new Date(Date.now() + 3_600_000);
const query = <T>(text: string, params: unknown[]) => orm.em.fork().getConnection().execute<T[]>(text, params);

interface Bucket {
  bucket: number;
  available: number;
  reserved: number;
  sold: number;
}
const bucketsOf = (skuId: string, warehouseId: string) =>
  query<Bucket>(`SELECT bucket, available, reserved, sold FROM stock WHERE sku_id = ? AND warehouse_id = ? ORDER BY bucket`, [skuId, warehouseId]);

/** The SKU's sums in one statement (one snapshot), and its smallest figure in any bucket. */
async function skuSums(skuId: string) {
  const [row] = await query<{ available: number; reserved: number; sold: number; low: number }>(
    `SELECT sum(available)::int AS available, sum(reserved)::int AS reserved, sum(sold)::int AS sold, least(min(available), min(reserved), min(sold))::int AS low
       FROM stock WHERE sku_id = ?`,
    [skuId],
  );
  return row!;
}

const holdBucket = async (orderId: string) =>
  (await query<{ bucket: number }>(`SELECT bucket FROM reservation WHERE order_id = ?`, [orderId])).map((r) => r.bucket);

/** Puts all of a bucketed SKU's available units into bucket 0 (an uneven spread, as after many takes from the other buckets). */
async function pileIntoBucketZero(skuId: string, warehouseId: string, units: number) {
  await query(`UPDATE stock SET available = CASE WHEN bucket = 0 THEN ? ELSE 0 END WHERE sku_id = ? AND warehouse_id = ?`, [units, skuId, warehouseId]);
}

describe('bucketed hot stock (flash-sale SKUs)', () => {
  it('spreads a flash SKU over buckets; the SKU reads as the sums; a normal SKU keeps one row', async () => {
    expect(spread(10, 4)).toEqual([3, 3, 2, 2]);
    const w = wh('bk');
    const flash = newId('sku');
    const normal = newId('sku');
    await setOnHand(orm.em.fork(), flash, w, 100, FLASH_STOCK_BUCKETS);
    await setOnHand(orm.em.fork(), normal, w, 100);
    const rows = await bucketsOf(flash, w);
    expect(rows.map((r) => r.bucket)).toEqual(Array.from({ length: FLASH_STOCK_BUCKETS }, (_, i) => i));
    expect(rows.map((r) => r.available)).toEqual(spread(100, FLASH_STOCK_BUCKETS));
    expect((await bucketsOf(normal, w)).map((r) => r.bucket)).toEqual([0]);
    const read = await stockBySkus(orm.em.fork(), [flash, normal]);
    expect(read.get(flash)).toEqual([{ skuId: flash, warehouseId: w, available: 100, reserved: 0, sold: 0 }]);
    expect(read.get(normal)).toEqual([{ skuId: normal, warehouseId: w, available: 100, reserved: 0, sold: 0 }]);

    // Restocking keeps each bucket's reserved where its hold is and spreads the rest; below what is committed is refused.
    const orderId = newId('ord');
    expect((await reserve(orm.em.fork(), { orderId, lines: [{ skuId: flash, qty: 3 }], expireAt: inAnHour() })).state).toBe('HOLD');
    await setOnHand(orm.em.fork(), flash, w, 40);
    expect(await skuSums(flash)).toEqual({ available: 37, reserved: 3, sold: 0, low: 0 });
    expect(Math.max(...(await bucketsOf(flash, w)).map((r) => r.available))).toBeLessThanOrEqual(3);
    await expect(setOnHand(orm.em.fork(), flash, w, 2)).rejects.toThrow(/at least 3/);
    // Told "bucketed" by mistake, a normal SKU's reservation still holds from its one row, once.
    const told = { orderId: newId('ord'), lines: [{ skuId: normal, qty: 2 }], expireAt: inAnHour() };
    expect(await reserve(orm.em.fork(), told, { bucketed: true })).toMatchObject({
      state: 'HOLD',
      replayed: false,
      allocations: [{ skuId: normal, warehouseId: w, qty: 2 }],
    });
    expect(await reserve(orm.em.fork(), told, { bucketed: true })).toMatchObject({ state: 'HOLD', replayed: true });
    expect(await skuSums(normal)).toMatchObject({ available: 98, reserved: 2, sold: 0 });
    expect(await stockInvariantViolations(orm.em.fork(), [flash, normal])).toEqual([]);
  });

  it('loads a demo flash SKU in buckets, once', async () => {
    const w = wh('demo');
    const [flash, normal] = [newId('sku'), newId('sku')];
    const file = join(await mkdtemp(join(tmpdir(), 'demo-')), 'demo.json');
    const skus = [
      { id: flash, flashSale: true, stock: { [w]: 20 } },
      { id: normal, stock: { [w]: 5 } },
    ];
    await writeFile(file, JSON.stringify({ products: [{ skus }] }));
    await loadDemoStock(orm.em.fork(), file);
    await loadDemoStock(orm.em.fork(), file);
    expect((await bucketsOf(flash, w)).map((r) => r.available)).toEqual(spread(20, FLASH_STOCK_BUCKETS));
    expect(await bucketsOf(normal, w)).toEqual([{ bucket: 0, available: 5, reserved: 0, sold: 0 }]);
  });

  it('many concurrent reservations of an unevenly spread flash SKU sell exactly its units, rebalancing buckets, the invariant holding throughout', async () => {
    const w = wh('hot');
    const skuId = newId('sku');
    const units = 40;
    const buyers = 120;
    await setOnHand(orm.em.fork(), skuId, w, units, 8);
    await pileIntoBucketZero(skuId, w, units);

    let sampling = true;
    const seen: string[] = [];
    let samples = 0;
    const sampler = (async () => {
      while (sampling) {
        const sums = await skuSums(skuId);
        const violations = await stockInvariantViolations(orm.em.fork(), [skuId]);
        samples++;
        if (sums.available + sums.reserved + sums.sold !== units || sums.low < 0) seen.push(JSON.stringify(sums));
        if (violations.length > 0) seen.push(JSON.stringify(violations));
      }
    })();
    const orderIds = Array.from({ length: buyers }, () => newId('ord'));
    // Half say their SKU is bucketed (a flash order's order.created does) and go line by line at once; the rest try reserveWhole first.
    const outcomes = await Promise.all(
      orderIds.map((orderId, i) => reserve(orm.em.fork(), { orderId, lines: [{ skuId, qty: 1 }], expireAt: inAnHour() }, { bucketed: i % 2 === 0 })),
    );
    sampling = false;
    await sampler;

    expect(samples).toBeGreaterThan(0);
    expect(seen).toEqual([]);
    expect(outcomes.filter((o) => o.state === 'HOLD')).toHaveLength(units);
    expect(outcomes.filter((o) => o.state === 'REJECTED')).toHaveLength(buyers - units);
    expect(await skuSums(skuId)).toEqual({ available: 0, reserved: units, sold: 0, low: 0 });
    expect(await stockInvariantViolations(orm.em.fork(), [skuId])).toEqual([]);
    // Every unit sat in bucket 0; holds taken from other buckets prove a rebalance moved units there.
    const held = await query<{ bucket: number; n: number }>(`SELECT bucket, sum(qty)::int AS n FROM reservation WHERE sku_id = ? GROUP BY bucket`, [skuId]);
    expect(held.reduce((n, r) => n + r.n, 0)).toBe(units);
    expect(held.filter((r) => r.bucket !== 0).length).toBeGreaterThan(0);
    for (const row of await bucketsOf(skuId, w)) expect(row.reserved).toBe(held.find((h) => h.bucket === row.bucket)?.n ?? 0);
  });

  it("a flash order's reservation takes one bucket in one statement, and concurrent ones spread over the buckets, rebalancing on a miss", async () => {
    const w = wh('one');
    const skuId = newId('sku');
    await setOnHand(orm.em.fork(), skuId, w, 64, FLASH_STOCK_BUCKETS);
    const statements = async () => (await registry.getSingleMetric('db_statements_total')!.get()).values.reduce((n, v) => n + v.value, 0);
    const before = await statements();
    const orderId = newId('ord');
    const first = await reserve(orm.em.fork(), { orderId, lines: [{ skuId, qty: 1 }], expireAt: inAnHour() }, { bucketed: true });
    expect(first).toMatchObject({ state: 'HOLD', replayed: false, allocations: [{ skuId, warehouseId: w, qty: 1 }] });
    // Header, bucket and hold in one statement (BEGIN and COMMIT aside); a bucket picked empty would have taken more.
    expect((await statements()) - before).toBe(1);
    expect(await reserve(orm.em.fork(), { orderId, lines: [{ skuId, qty: 1 }], expireAt: inAnHour() }, { bucketed: true })).toMatchObject({
      state: 'HOLD',
      replayed: true,
    });
    // In an event handler's transaction too it is the one statement: BEGIN, it, COMMIT, no savepoint around it.
    const roundTrips = async () => (await registry.getSingleMetric('db_round_trips_total')!.get()).values.reduce((n, v) => n + v.value, 0);
    const sent = await roundTrips();
    const inTransaction = await orm.em
      .fork()
      .transactional((tx) => reserve(tx, { orderId: newId('ord'), lines: [{ skuId, qty: 1 }], expireAt: inAnHour() }, { bucketed: true }));
    expect(inTransaction).toMatchObject({ state: 'HOLD', replayed: false });
    expect((await roundTrips()) - sent).toBe(3);

    const outcomes = await Promise.all(
      Array.from({ length: 40 }, () => reserve(orm.em.fork(), { orderId: newId('ord'), lines: [{ skuId, qty: 1 }], expireAt: inAnHour() }, { bucketed: true })),
    );
    expect(outcomes.every((o) => o.state === 'HOLD')).toBe(true);
    const held = await query<{ bucket: number }>(`SELECT DISTINCT bucket FROM reservation WHERE sku_id = ?`, [skuId]);
    expect(held.length).toBeGreaterThan(1);
    expect(await skuSums(skuId)).toMatchObject({ available: 64 - 42, reserved: 42, sold: 0 });
    expect(await stockInvariantViolations(orm.em.fork(), [skuId])).toEqual([]);
  });

  it('a reservation that finds its bucket empty rebalances the rest evenly, and so does a rebalance with nothing to take', async () => {
    const w = wh('rb');
    const skuId = newId('sku');
    await setOnHand(orm.em.fork(), skuId, w, 64, 8);
    await pileIntoBucketZero(skuId, w, 64);
    // Reserve until a take lands on an empty bucket (7 of 8 are empty: almost always the first).
    for (let i = 0; i < 30 && (await bucketsOf(skuId, w)).filter((b) => b.available > 0).length === 1; i++)
      expect((await reserve(orm.em.fork(), { orderId: newId('ord'), lines: [{ skuId, qty: 1 }], expireAt: inAnHour() })).state).toBe('HOLD');
    const after = await bucketsOf(skuId, w);
    const available = after.reduce((n, b) => n + b.available, 0);
    expect(Math.max(...after.map((b) => b.available)) - Math.min(...after.map((b) => b.available))).toBeLessThanOrEqual(1);
    expect(available + after.reduce((n, b) => n + b.reserved, 0)).toBe(64);

    await pileIntoBucketZero(skuId, w, available);
    const rebalance = (sku: string) => orm.em.fork().transactional((tx) => takeRebalanced(tx, sku, w, null));
    expect(await rebalance(skuId)).toBe(8);
    expect((await bucketsOf(skuId, w)).map((b) => b.available)).toEqual(spread(available, 8));
    expect(await rebalance(newId('sku'))).toBeNull();
    expect(await stockInvariantViolations(orm.em.fork(), [skuId])).toEqual([]);
  });

  it('confirm, release and return move units in the bucket the hold took them from', async () => {
    const w = wh('cr');
    const skuId = newId('sku');
    await setOnHand(orm.em.fork(), skuId, w, 32, FLASH_STOCK_BUCKETS);
    const [paid, canceled] = [newId('ord'), newId('ord')];
    for (const orderId of [paid, canceled]) {
      const outcome = await reserve(orm.em.fork(), { orderId, lines: [{ skuId, qty: 1 }], expireAt: inAnHour() });
      expect(outcome).toMatchObject({ state: 'HOLD', allocations: [{ skuId, warehouseId: w, qty: 1 }] });
    }
    const [paidBucket] = await holdBucket(paid);
    const [canceledBucket] = await holdBucket(canceled);
    const bucket = async (b: number) => (await bucketsOf(skuId, w)).find((r) => r.bucket === b)!;

    const beforeConfirm = await bucket(paidBucket!);
    expect((await confirm(orm.em.fork(), paid)).changed).toBe(true);
    const confirmed = await bucket(paidBucket!);
    expect({ reserved: confirmed.reserved, sold: confirmed.sold }).toEqual({ reserved: beforeConfirm.reserved - 1, sold: beforeConfirm.sold + 1 });

    const beforeRelease = await bucket(canceledBucket!);
    expect((await release(orm.em.fork(), canceled)).changed).toBe(true);
    const released = await bucket(canceledBucket!);
    expect({ available: released.available, reserved: released.reserved }).toEqual({
      available: beforeRelease.available + 1,
      reserved: beforeRelease.reserved - 1,
    });

    expect(await stockInvariantViolations(orm.em.fork(), [skuId])).toEqual([]);
    const beforeReturn = await bucket(paidBucket!);
    const returned = await orm.em.fork().transactional((tx) => returnStopped(tx, paid, [{ skuId, warehouseId: w, qty: 1 }]));
    expect(returned.changed).toBe(true);
    const afterReturn = await bucket(paidBucket!);
    expect({ available: afterReturn.available, sold: afterReturn.sold }).toEqual({ available: beforeReturn.available + 1, sold: beforeReturn.sold - 1 });
    expect(await skuSums(skuId)).toEqual({ available: 32, reserved: 0, sold: 0, low: 0 });
    expect(await query(`SELECT returned FROM reservation WHERE order_id = ?`, [paid])).toEqual([{ returned: 1 }]);
    expect(await stockInvariantViolations(orm.em.fork(), [skuId])).toEqual([]);
  });
});
