import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbRoundTrips, dbStatements, dbTransactions, newId, openDatabase } from '@shop/kit';
import { loadDemoStock } from './domain/demo.js';
import { planLine } from './domain/allocation.js';
import { confirm, expiredHolds, release, reserve } from './domain/reservations.js';
import { reservationInvariantViolations, stockInvariantViolations } from './domain/invariants.js';
import { setOnHand } from './domain/stock.js';
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

async function stockOf(skuId: string) {
  return orm.em
    .fork()
    .getConnection()
    .execute<{ warehouseId: string; available: number; reserved: number; sold: number }[]>(
      `SELECT warehouse_id AS "warehouseId", available, reserved, sold FROM stock WHERE sku_id = ? ORDER BY warehouse_id`,
      [skuId],
    );
}
const totals = async (skuId: string) =>
  (await stockOf(skuId)).reduce((t, r) => ({ available: t.available + r.available, reserved: t.reserved + r.reserved, sold: t.sold + r.sold }), {
    available: 0,
    reserved: 0,
    sold: 0,
  });

async function skuWithStock(stock: Record<string, number>): Promise<string> {
  const skuId = newId('sku');
  for (const [warehouseId, onHand] of Object.entries(stock)) await setOnHand(orm.em.fork(), skuId, warehouseId, onHand);
  return skuId;
}

describe('planLine (warehouse choice)', () => {
  it('prefers one warehouse that serves the whole line, else splits by descending available', () => {
    expect(
      planLine(
        [
          { warehouseId: 'a', available: 3 },
          { warehouseId: 'b', available: 8 },
        ],
        5,
      ),
    ).toEqual([{ warehouseId: 'b', qty: 5 }]);
    expect(
      planLine(
        [
          { warehouseId: 'a', available: 3 },
          { warehouseId: 'b', available: 4 },
          { warehouseId: 'c', available: 2 },
        ],
        8,
      ),
    ).toEqual([
      { warehouseId: 'a', qty: 3 },
      { warehouseId: 'b', qty: 4 },
      { warehouseId: 'c', qty: 1 },
    ]);
    expect(planLine([{ warehouseId: 'a', available: 3 }], 4)).toBeNull();
    expect(planLine([], 1)).toBeNull();
  });
});

describe('reservations', () => {
  it('holds, confirms and repeats each command without a second effect', async () => {
    const w = wh('sh');
    const skuId = await skuWithStock({ [w]: 10 });
    const orderId = newId('ord');
    const input = { orderId, lines: [{ skuId, qty: 3 }], expireAt: inAnHour() };

    const first = await reserve(orm.em.fork(), input);
    expect(first).toEqual({ state: 'HOLD', allocations: [{ skuId, warehouseId: w, qty: 3 }], replayed: false, orderState: 'HOLD' });
    const again = await reserve(orm.em.fork(), input);
    expect(again).toEqual({ ...first, replayed: true });
    expect(await totals(skuId)).toEqual({ available: 7, reserved: 3, sold: 0 });

    expect(await confirm(orm.em.fork(), orderId)).toEqual({ ok: true, state: 'CONFIRMED', changed: true });
    expect(await confirm(orm.em.fork(), orderId)).toEqual({ ok: true, state: 'CONFIRMED', changed: false });
    expect(await totals(skuId)).toEqual({ available: 7, reserved: 0, sold: 3 });
    expect(await reserve(orm.em.fork(), input)).toMatchObject({ state: 'HOLD', replayed: true, orderState: 'CONFIRMED' });

    // A confirmed order is only given back with restock (refund of an unshipped order).
    expect(await release(orm.em.fork(), orderId)).toEqual({ ok: false, state: 'CONFIRMED', changed: false });
    expect(await release(orm.em.fork(), orderId, { restock: true })).toEqual({ ok: true, state: 'RELEASED', changed: true });
    expect(await release(orm.em.fork(), orderId, { restock: true })).toEqual({ ok: true, state: 'RELEASED', changed: false });
    expect(await totals(skuId)).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await stockInvariantViolations(orm.em.fork(), [skuId])).toEqual([]);
  });

  it('releases a hold once, and refuses to confirm a released order', async () => {
    const skuId = await skuWithStock({ [wh('sz')]: 5 });
    const orderId = newId('ord');
    await reserve(orm.em.fork(), { orderId, lines: [{ skuId, qty: 5 }], expireAt: inAnHour() });
    expect(await totals(skuId)).toEqual({ available: 0, reserved: 5, sold: 0 });
    expect(await release(orm.em.fork(), orderId)).toEqual({ ok: true, state: 'RELEASED', changed: true });
    expect(await release(orm.em.fork(), orderId)).toEqual({ ok: true, state: 'RELEASED', changed: false });
    expect(await totals(skuId)).toEqual({ available: 5, reserved: 0, sold: 0 });
    expect(await confirm(orm.em.fork(), orderId)).toEqual({ ok: false, state: 'RELEASED', changed: false });
    expect(await confirm(orm.em.fork(), newId('ord'))).toEqual({ ok: false, state: 'UNKNOWN', changed: false });
  });

  it('reserves an order whose lines each fit one warehouse in one statement, from the warehouse with the most available', async () => {
    const [a, b] = [wh('one-a'), wh('one-b')];
    const hot = await skuWithStock({ [a]: 5, [b]: 9 });
    const cold = await skuWithStock({ [a]: 4, [b]: 2 });
    const orderId = newId('ord');
    const value = async (counter: typeof dbStatements) => (await counter.get()).values[0]?.value ?? 0;
    const [statements, transactions, roundTrips] = [await value(dbStatements), await value(dbTransactions), await value(dbRoundTrips)];
    const outcome = await reserve(orm.em.fork(), {
      orderId,
      lines: [
        { skuId: hot, qty: 3 },
        { skuId: cold, qty: 1 },
      ],
      expireAt: inAnHour(),
    });
    // The statement is its own transaction: no BEGIN or COMMIT round trips around it.
    expect((await value(dbRoundTrips)) - roundTrips).toBe(1);
    expect((await value(dbStatements)) - statements).toBe(1);
    expect((await value(dbTransactions)) - transactions).toBe(1);
    expect(outcome).toEqual({
      state: 'HOLD',
      replayed: false,
      orderState: 'HOLD',
      allocations: [
        { skuId: hot, warehouseId: b, qty: 3 },
        { skuId: cold, warehouseId: a, qty: 1 },
      ].sort((x, y) => (x.skuId < y.skuId ? -1 : 1)),
    });
    expect(await stockOf(hot)).toEqual([
      { warehouseId: a, available: 5, reserved: 0, sold: 0 },
      { warehouseId: b, available: 6, reserved: 3, sold: 0 },
    ]);
    // A repeat takes nothing and answers what was recorded.
    expect(await reserve(orm.em.fork(), { orderId, lines: [{ skuId: hot, qty: 3 }], expireAt: inAnHour() })).toMatchObject({ state: 'HOLD', replayed: true });
    expect(await totals(hot)).toEqual({ available: 11, reserved: 3, sold: 0 });
  });

  it('splits a line across warehouses by descending available and records each part', async () => {
    const a = wh('a');
    const b = wh('b');
    const c = wh('c');
    const skuId = await skuWithStock({ [a]: 4, [b]: 6, [c]: 1 });
    const orderId = newId('ord');
    const outcome = await reserve(orm.em.fork(), {
      orderId,
      lines: [
        { skuId, qty: 5 },
        { skuId, qty: 3 },
      ],
      expireAt: inAnHour(),
    });
    expect(outcome.state).toBe('HOLD');
    if (outcome.state !== 'HOLD') return;
    expect(outcome.allocations).toEqual([
      { skuId, warehouseId: a, qty: 2 },
      { skuId, warehouseId: b, qty: 6 },
    ]);
    expect(await stockOf(skuId)).toEqual([
      { warehouseId: a, available: 2, reserved: 2, sold: 0 },
      { warehouseId: b, available: 0, reserved: 6, sold: 0 },
      { warehouseId: c, available: 1, reserved: 0, sold: 0 },
    ]);
    expect((await reserve(orm.em.fork(), { orderId, lines: [{ skuId, qty: 8 }], expireAt: inAnHour() })).replayed).toBe(true);
    await confirm(orm.em.fork(), orderId);
    expect(await totals(skuId)).toEqual({ available: 3, reserved: 0, sold: 8 });
    expect(await stockInvariantViolations(orm.em.fork(), [skuId])).toEqual([]);
  });

  it('rejects the whole order when one line is short, takes nothing, and replays the rejection', async () => {
    const plenty = await skuWithStock({ [wh('p')]: 10 });
    const scarce = await skuWithStock({ [wh('s')]: 1 });
    const unknown = newId('sku');
    const orderId = newId('ord');
    const input = {
      orderId,
      lines: [
        { skuId: plenty, qty: 2 },
        { skuId: scarce, qty: 2 },
        { skuId: unknown, qty: 1 },
      ],
      expireAt: inAnHour(),
    };
    const outcome = await reserve(orm.em.fork(), input);
    expect(outcome.state).toBe('REJECTED');
    if (outcome.state !== 'REJECTED') return;
    expect(outcome.shortages).toEqual(
      expect.arrayContaining([
        { skuId: scarce, requested: 2, available: 1 },
        { skuId: unknown, requested: 1, available: 0 },
      ]),
    );
    expect(outcome.shortages).toHaveLength(2);
    expect(await totals(plenty)).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await totals(scarce)).toEqual({ available: 1, reserved: 0, sold: 0 });
    // More stock later does not change a recorded rejection.
    await setOnHand(orm.em.fork(), scarce, (await stockOf(scarce))[0]!.warehouseId, 5);
    expect(await reserve(orm.em.fork(), input)).toEqual({ ...outcome, replayed: true });
    expect(await confirm(orm.em.fork(), orderId)).toEqual({ ok: false, state: 'REJECTED', changed: false });
    expect(await release(orm.em.fork(), orderId)).toEqual({ ok: true, state: 'REJECTED', changed: false });
  });

  it('a release that arrives before the reservation leaves a tombstone: the late reserve holds nothing', async () => {
    const skuId = await skuWithStock({ [wh('t')]: 3 });
    const orderId = newId('ord');
    expect(await release(orm.em.fork(), orderId)).toEqual({ ok: true, state: 'RELEASED', changed: false });
    expect(await reserve(orm.em.fork(), { orderId, lines: [{ skuId, qty: 1 }], expireAt: inAnHour() })).toEqual({
      state: 'REJECTED',
      shortages: [],
      replayed: true,
      orderState: 'RELEASED',
    });
    expect(await totals(skuId)).toEqual({ available: 3, reserved: 0, sold: 0 });
  });

  it('setStock refuses an on-hand quantity below reserved + sold', async () => {
    const w = wh('r');
    const skuId = await skuWithStock({ [w]: 10 });
    const orderId = newId('ord');
    await reserve(orm.em.fork(), { orderId, lines: [{ skuId, qty: 4 }], expireAt: inAnHour() });
    await expect(setOnHand(orm.em.fork(), skuId, w, 3)).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', reserved: 4, sold: 0 } });
    await setOnHand(orm.em.fork(), skuId, w, 4);
    expect(await totals(skuId)).toEqual({ available: 0, reserved: 4, sold: 0 });
  });

  it('lists expired holds for a sweeper', async () => {
    const skuId = await skuWithStock({ [wh('e')]: 2 });
    const orderId = newId('ord');
    await reserve(orm.em.fork(), { orderId, lines: [{ skuId, qty: 1 }], expireAt: new Date(Date.now() - 1000) });
    expect(await expiredHolds(orm.em.fork(), new Date(), 10_000)).toContain(orderId);
    await release(orm.em.fork(), orderId);
    expect(await expiredHolds(orm.em.fork(), new Date(), 10_000)).not.toContain(orderId);
  });
});

describe('demo stock', () => {
  it('creates warehouses and stock from DEMO_DATA once; loading again changes nothing', async () => {
    const [s1, s2] = [newId('sku'), newId('sku')];
    const [w1, w2] = [wh('demo-a'), wh('demo-b')];
    const file = join(await mkdtemp(join(tmpdir(), 'inventory-demo-')), 'demo.json');
    await writeFile(
      file,
      JSON.stringify({
        warehouses: [w1, w2],
        products: [
          {
            skus: [
              { id: s1, stock: { [w1]: 40, [w2]: 25 } },
              { id: s2, stock: { [w1]: 15 } },
            ],
          },
        ],
      }),
    );
    await loadDemoStock(orm.em.fork(), file);
    await setOnHand(orm.em.fork(), s2, w1, 3); // an operator's change survives a restart
    await loadDemoStock(orm.em.fork(), file);
    expect(await stockOf(s1)).toEqual([
      { warehouseId: w1, available: 40, reserved: 0, sold: 0 },
      { warehouseId: w2, available: 25, reserved: 0, sold: 0 },
    ]);
    expect(await totals(s2)).toEqual({ available: 3, reserved: 0, sold: 0 });
  });
});

describe('reservations under concurrency', () => {
  it('300 concurrent orders of 1 against 30 + 20 in stock: exactly 50 hold, none oversold', async () => {
    const skuId = await skuWithStock({ [wh('c1')]: 30, [wh('c2')]: 20 });
    const orders = Array.from({ length: 300 }, () => newId('ord'));
    const outcomes = await Promise.all(orders.map((orderId) => reserve(orm.em.fork(), { orderId, lines: [{ skuId, qty: 1 }], expireAt: inAnHour() })));
    expect(outcomes.filter((o) => o.state === 'HOLD')).toHaveLength(50);
    expect(outcomes.filter((o) => o.state === 'REJECTED')).toHaveLength(250);
    expect(await totals(skuId)).toEqual({ available: 0, reserved: 50, sold: 0 });
    expect(await stockInvariantViolations(orm.em.fork(), [skuId])).toEqual([]);
    const [{ holds }] = (await orm.em
      .fork()
      .getConnection()
      .execute<{ holds: number }[]>(
        `SELECT count(*)::int AS holds FROM reservation_order o JOIN reservation r USING (order_id) WHERE r.sku_id = ? AND o.state = 'HOLD'`,
        [skuId],
      )) as [{ holds: number }];
    expect(holds).toBe(50);
  });

  it('multi-line orders splitting across warehouses, lines in either order: all-or-nothing, no deadlock, no oversell', async () => {
    const a = await skuWithStock({ [wh('m1')]: 7, [wh('m2')]: 7, [wh('m3')]: 7 });
    const b = await skuWithStock({ [wh('m4')]: 10, [wh('m5')]: 10 });
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const lines =
          i % 2 === 0
            ? [
                { skuId: a, qty: 2 },
                { skuId: b, qty: 1 },
              ]
            : [
                { skuId: b, qty: 1 },
                { skuId: a, qty: 2 },
              ];
        return reserve(orm.em.fork(), { orderId: newId('ord'), lines, expireAt: inAnHour() });
      }),
    );
    const holds = outcomes.filter((o) => o.state === 'HOLD').length;
    expect(holds).toBe(10);
    expect(await totals(a)).toEqual({ available: 1, reserved: 20, sold: 0 });
    expect(await totals(b)).toEqual({ available: 10, reserved: 10, sold: 0 });
    expect(await stockInvariantViolations(orm.em.fork(), [a, b])).toEqual([]);
  });

  it('concurrent repeats of one order have one effect', async () => {
    const skuId = await skuWithStock({ [wh('r1')]: 100 });
    const orderId = newId('ord');
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => reserve(orm.em.fork(), { orderId, lines: [{ skuId, qty: 7 }], expireAt: inAnHour() })));
    expect(outcomes.every((o) => o.state === 'HOLD')).toBe(true);
    expect(outcomes.filter((o) => !o.replayed)).toHaveLength(1);
    expect(await totals(skuId)).toEqual({ available: 93, reserved: 7, sold: 0 });
  });

  it('concurrent confirm and release of one hold: exactly one wins, stock agrees', async () => {
    const skuId = await skuWithStock({ [wh('x1')]: 2, [wh('x2')]: 2 });
    const orderId = newId('ord');
    await reserve(orm.em.fork(), { orderId, lines: [{ skuId, qty: 3 }], expireAt: inAnHour() });
    const results = await Promise.all([
      confirm(orm.em.fork(), orderId),
      release(orm.em.fork(), orderId),
      confirm(orm.em.fork(), orderId),
      release(orm.em.fork(), orderId),
    ]);
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    const t = await totals(skuId);
    expect(t.reserved).toBe(0);
    expect(t.available + t.sold).toBe(4);
    expect([0, 3]).toContain(t.sold);
    expect(await stockInvariantViolations(orm.em.fork(), [skuId])).toEqual([]);
  });

  it('holds the invariants over every stock row of this run', async () => {
    expect(await stockInvariantViolations(orm.em.fork())).toEqual([]);
    expect(await reservationInvariantViolations(orm.em.fork())).toEqual([]);
  });
});
