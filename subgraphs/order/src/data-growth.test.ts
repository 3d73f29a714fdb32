import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { leaderLock, openDatabase } from '@shop/kit';
import { callSubgraph, idAt, migratedWithRows, partitionOf, sql, user } from '@shop/kit/testing';
import { archiveCommand, parseArchiveArgs, UsageError } from './archive-orders.js';
import { ensurePartitions, partitionsAheadSeconds, startPartitionJob } from './domain/partitions.js';
import { gatherObservations, windowIds } from './domain/risk/facts.js';
import { start } from './index.js';
import { database } from './persistence.js';

type Server = { url: string; stop(): Promise<void> };
let order: Server;
let orm: MikroORM;

beforeAll(async () => {
  order = await start(0);
  orm = await openDatabase(database);
});
afterAll(async () => {
  await order?.stop();
  await orm?.close();
});

const day = 86_400_000;
const q = () => sql(orm.em.fork());
/** An order id created at `at` (a UUIDv7's time prefix and random bits). */
const orderIdAt = (at: Date) => idAt('ord', at);
const orderPartition = (id: string) => partitionOf(orm.em.fork(), 'orders', 'id', id);

/** An order written as placeOrder writes it (order, item, audit row, idempotency key), created `ageDays` ago. */
async function insertOrder(userId: string, ageDays: number, status: string, clientReqId = `req-${randomBytes(4).toString('hex')}`): Promise<string> {
  const at = new Date(Date.now() - ageDays * day);
  const id = orderIdAt(at);
  const cancel = status === 'CANCELED' ? 'USER_CANCELED' : null;
  await q().run(
    `INSERT INTO orders (id, user_id, status, cancel_reason, currency, total, discount, shipping_fee, payable, preview_id, flash_sale, expire_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'CNY', 1000, 0, 0, 1000, 'pvw_x', false, ?, ?, ?)`,
    [id, userId, status, cancel, at, at, at],
  );
  await q().run(`INSERT INTO order_item (order_id, sku_id, qty, unit_price) VALUES (?, 'sku_a', 2, 500)`, [id]);
  await q().run(`INSERT INTO order_event (id, order_id, event_type, to_status, version, created_at) VALUES (?, ?, 'ORDER_CREATED', 'CREATED', 1, ?)`, [
    `evt_${randomBytes(16).toString('hex')}`,
    id,
    at,
  ]);
  await q().run(`INSERT INTO order_request (user_id, client_req_id, order_id, preview_id) VALUES (?, ?, ?, 'pvw_x')`, [userId, clientReqId, id]);
  return id;
}

describe('partitions', () => {
  it('creates partitions ahead, once across replicas, and an order lands in the partition of its id', async () => {
    const before = await partitionsAheadSeconds(orm.em.fork());
    expect(before).toBeGreaterThan(50 * 86_400); // the migration created 56 days ahead
    const settings = { periodDays: 7, aheadDays: 120 };
    const created = await ensurePartitions(orm.em.fork(), settings);
    expect(created).toBeGreaterThanOrEqual(8);
    expect(await partitionsAheadSeconds(orm.em.fork())).toBeGreaterThanOrEqual(120 * 86_400);
    expect(await ensurePartitions(orm.em.fork(), settings)).toBe(0);

    // Two replicas' jobs: one leads and runs, the other only asks for the lock.
    const name = `ordering:partitions:test:${randomBytes(4).toString('hex')}`;
    process.env.ORDER_PARTITIONS_AHEAD_DAYS = '200';
    try {
      const a = startPartitionJob(orm.em.fork(), leaderLock(name));
      const b = startPartitionJob(orm.em.fork(), leaderLock(name));
      const [ta, tb] = [await a.tick(), await b.tick()];
      expect([ta, tb].filter((t) => t === null)).toHaveLength(1);
      await a.stop();
      await b.stop();
    } finally {
      delete process.env.ORDER_PARTITIONS_AHEAD_DAYS;
    }
    expect(await partitionsAheadSeconds(orm.em.fork())).toBeGreaterThanOrEqual(199 * 86_400);

    const now = await insertOrder(user().userId, 0, 'CREATED');
    const future = await insertOrder(user().userId, -100, 'CREATED');
    const old = await insertOrder(user().userId, 400, 'CREATED');
    expect(await orderPartition(old)).toBe('orders_p_before');
    expect(await orderPartition(now)).toMatch(/^orders_p\d{8}$/);
    expect(await orderPartition(future)).toMatch(/^orders_p\d{8}$/);
    expect(await orderPartition(future)).not.toBe(await orderPartition(now));
    // A query by id reads one partition.
    const plan = await q().all<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT * FROM orders WHERE id = '${now}'`);
    expect(plan.filter((l) => /Scan/.test(l['QUERY PLAN']))).toHaveLength(1);
  });

  it('refuses a second order for one idempotency key even when the orders would land in different partitions', async () => {
    const buyer = user().userId;
    const first = await insertOrder(buyer, 400, 'CREATED', 'checkout-1');
    const second = orderIdAt(new Date());
    expect(await orderPartition(first)).toBe('orders_p_before');
    await expect(
      q().run(`INSERT INTO order_request (user_id, client_req_id, order_id, preview_id) VALUES (?, 'checkout-1', ?, 'pvw_y')`, [buyer, second]),
    ).rejects.toThrow(/order_request_pkey/);
    // The order id itself is the partition key: unique in every partition at once.
    await expect(
      q().run(
        `INSERT INTO orders (id, user_id, status, currency, total, discount, shipping_fee, payable, preview_id, flash_sale, expire_at) VALUES (?, ?, 'CREATED', 'CNY', 0, 0, 0, 0, 'p', false, now())`,
        [first, buyer],
      ),
    ).rejects.toThrow(/duplicate key value violates unique constraint "orders_p_before_pkey"/);
  });

  it("counts a subject's orders in a risk window across partitions, reading only the window's partitions", async () => {
    const buyer = user().userId;
    for (const ageDays of [0, 10, 20, 45, 400]) await insertOrder(buyer, ageDays, 'CREATED');
    const rule = (id: string, days: number) =>
      ({ id, kind: 'ORDERS_PER_USER', action: 'REJECT', enabled: true, params: { max: 100, windowSeconds: days * 86_400 } }) as const;
    const seen = await gatherObservations(orm.em.fork(), { userId: buyer, payable: 1000, currency: 'CNY' }, [rule('r1', 1), rule('r30', 30), rule('r60', 60)]);
    expect(seen.orders.user).toEqual({ [86_400]: 1, [30 * 86_400]: 3, [60 * 86_400]: 4 });

    // The id bounds prune: a 30-day count reads the partitions of its days (and a day on each side),
    // not the weeks created ahead. This database's history is orders_p_before (the partitions start
    // at its migration), so that is the window's past here.
    const { floor, ceiling } = windowIds(30 * 86_400);
    const plan = await q().all<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT count(*) FROM orders WHERE user_id = ? AND id >= ? AND id < ? AND created_at > now() - interval '30 days'`,
      [buyer, floor, ceiling],
    );
    const scanned = plan.map((l) => l['QUERY PLAN']).filter((l) => / on orders_p/.test(l));
    const partitions = await q().all<{ n: number }>(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'orders'::regclass`);
    expect(partitions[0]!.n).toBeGreaterThan(8);
    expect(scanned.length).toBeGreaterThan(0);
    expect(scanned.length).toBeLessThanOrEqual(3); // orders_p_before, this week's and perhaps next week's
    expect(scanned.some((l) => /orders_p_before/.test(l))).toBe(true);
  });
});

const ORDER = `query($id: ID!) { order(id: $id) { id status items { qty sku { id } } } }`;
const ORDERS = `query($after: String) { orders(first: 2, after: $after) { edges { node { id status } } pageInfo { hasNextPage endCursor } } }`;
const quiet = () => undefined;

describe('archive', () => {
  it('moves closed orders past the age in resumable batches, idempotently, and order(id) / orders still answer for them', async () => {
    const buyer = user();
    const cold = [
      await insertOrder(buyer.userId, 200, 'COMPLETED'),
      await insertOrder(buyer.userId, 150, 'CANCELED'),
      await insertOrder(buyer.userId, 120, 'REFUNDED'),
    ];
    const openOld = await insertOrder(buyer.userId, 180, 'SHIPPED'); // not closed: stays live
    const recent = await insertOrder(buyer.userId, 1, 'COMPLETED'); // closed, but recently: stays live

    const dry = await archiveCommand(['--older-than-days', '100', '--dry-run'], quiet);
    expect(dry).toMatchObject({ dryRun: true, archived: 0 });
    expect(dry.archivable).toBeGreaterThanOrEqual(3);
    expect(await orderPartition(cold[0]!)).toBeDefined();

    // Stopped after one order (a crash, Ctrl-C): the next run goes on from there.
    const progress: string[] = [];
    const first = await archiveCommand(['--older-than-days', '100', '--batch-size', '1', '--limit', '1'], (l) => progress.push(l));
    expect(first.archived).toBe(1);
    expect(progress.some((l) => /archived 1\/1 \(100%\)/.test(l))).toBe(true);
    const rest = await archiveCommand(['--older-than-days', '100', '--batch-size', '2'], quiet);
    expect(rest.left).toBe(0);
    expect(await archiveCommand(['--older-than-days', '100'], quiet)).toMatchObject({ archivable: 0, archived: 0, left: 0 });

    for (const id of cold) {
      expect(await orderPartition(id)).toBeUndefined();
      const row = await q().one<{ n: string }>('SELECT count(*) AS n FROM ordering_archive.order_item WHERE order_id = ?', [id]);
      expect(row!.n).toBe('1');
    }
    expect(await orderPartition(openOld)).toBeDefined();
    expect(await orderPartition(recent)).toBeDefined();

    const read = await callSubgraph(order.url, ORDER, { id: cold[1] }, buyer);
    expect(read.errors).toBeUndefined();
    expect(read.data!.order).toEqual({ id: cold[1], status: 'CANCELED', items: [{ qty: 2, sku: { id: 'sku_a' } }] });
    expect((await callSubgraph(order.url, ORDER, { id: cold[0] }, user())).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    // The list, newest first across live and archived orders, paged.
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: any = await callSubgraph(order.url, ORDERS, { after }, buyer);
      expect(page.errors).toBeUndefined();
      seen.push(...page.data.orders.edges.map((e: { node: { id: string } }) => e.node.id));
      after = page.data.orders.pageInfo.hasNextPage ? page.data.orders.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual([recent, cold[2], cold[1], openOld, cold[0]]);
  });

  it('explains bad flags and refuses an age under the minimum', () => {
    expect(() => parseArchiveArgs(['--batch-size', '0'])).toThrow(/--batch-size must be a whole number from 1 to 5000, got "0"/);
    expect(() => parseArchiveArgs(['--older-than-days', '2'])).toThrow(/--older-than-days must be a whole number from 7/);
    expect(() => parseArchiveArgs(['--olderthan', '9'])).toThrow(UsageError);
    expect(() => parseArchiveArgs(['--limit', 'ten'])).toThrow(/--limit must be a whole number/);
    expect(parseArchiveArgs(['--dry-run'])).toMatchObject({ dryRun: true, olderThanDays: 90, batchSize: 500 });
  });
});

describe('the partitioning migration', () => {
  it('converts the rows that exist into the partitioned tables', async () => {
    const id = orderIdAt(new Date(Date.now() - 30 * day));
    const converted = await migratedWithRows(database, 1, async (em) => {
      const raw = sql(em);
      await raw.run(
        `INSERT INTO orders (id, user_id, status, currency, total, discount, shipping_fee, payable, preview_id, flash_sale, expire_at) VALUES (?, 'u1', 'PAID', 'CNY', 10, 0, 0, 10, 'p', false, now())`,
        [id],
      );
      await raw.run(`INSERT INTO order_item (order_id, sku_id, qty, unit_price) VALUES (?, 'sku_a', 1, 10)`, [id]);
      await raw.run(`INSERT INTO order_event (id, order_id, event_type, to_status, version) VALUES ('evt_1', ?, 'ORDER_CREATED', 'CREATED', 1)`, [id]);
      await raw.run(`INSERT INTO order_request (user_id, client_req_id, order_id, preview_id) VALUES ('u1', 'k1', ?, 'p')`, [id]);
    });
    try {
      const after = sql(converted.orm.em.fork());
      expect(await after.one(`SELECT tableoid::regclass::text AS p, status FROM orders WHERE id = ?`, [id])).toEqual({ p: 'orders_p_before', status: 'PAID' });
      expect(await after.one(`SELECT tableoid::regclass::text AS p FROM order_item WHERE order_id = ?`, [id])).toEqual({ p: 'order_item_p_before' });
      expect(await after.one(`SELECT tableoid::regclass::text AS p FROM order_event WHERE order_id = ?`, [id])).toEqual({ p: 'order_event_p_before' });
      expect(await after.one(`SELECT relkind FROM pg_class WHERE oid = 'ordering.orders'::regclass`)).toEqual({ relkind: 'p' });
    } finally {
      await converted.drop();
    }
  });
});
