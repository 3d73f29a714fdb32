import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  ensurePartitions,
  keyRetentionDays,
  leaderLock,
  openDatabase,
  partitionsAheadSeconds,
  pruneKeysOnce,
  registry,
  retentionPolicy,
  startKeyRetention,
  startPartitionJob,
  type EntityManager,
} from '@shop/kit';
import { idAt, migratedWithRows, partitionOf, scannedRelations, sql } from '@shop/kit/testing';
import { processCallback } from './domain/callback.js';
import { PAYMENT_KEYS, PAYMENT_PARTITIONS } from './domain/partitions.js';
import { latestPayments, paymentIdsOfOrders } from './domain/pay-order.js';
import { database } from './persistence.js';

let orm: MikroORM;
beforeAll(async () => {
  orm = await openDatabase(database);
});
afterAll(async () => {
  await orm?.close();
});

const day = 86_400_000;
const q = (em: EntityManager = orm.em.fork()) => sql(em);
const orderId = () => idAt('ord', new Date());
const paymentPartition = (id: string) => partitionOf(orm.em.fork(), 'payment', 'id', id);

/** A payment written as payOrder writes it, its id created `ageDays` ago. */
async function insertPayment(order: string, ageDays: number, status = 'PENDING', txn: string | null = null, em?: EntityManager): Promise<string> {
  const id = idAt('pay', new Date(Date.now() - ageDays * day));
  return insertPaymentWithId(id, order, status, txn, em);
}

async function insertPaymentWithId(id: string, order: string, status: string, txn: string | null, em?: EntityManager): Promise<string> {
  await q(em).run(`INSERT INTO payment (id, order_id, user_id, amount, currency, status, payment_txn_id) VALUES (?, ?, 'u_1', 1000, 'CNY', ?, ?)`, [
    id,
    order,
    status,
    txn,
  ]);
  return id;
}

describe('payment partitions', () => {
  it('the migration moves existing payments into partitions and fills their keys', async () => {
    const order = orderId();
    let ids: string[] = [];
    const scratch = await migratedWithRows(database, 1, async (em) => {
      ids = [await insertPayment(order, 30, 'FAILED', 'txn-old', em), await insertPayment(order, 0, 'SUCCEEDED', 'txn-new', em)];
      await q(em).run(
        `INSERT INTO refund (id, payment_id, order_id, amount, currency, status, reason, kind) VALUES ('rfd_1', ?, ?, 500, 'CNY', 'REQUESTED', 'r', 'AFTER_SALE')`,
        [ids[1], order],
      );
    });
    try {
      const s = q(scratch.orm.em.fork());
      const rows = await s.all<{ id: string; p: string; status: string }>('SELECT id, tableoid::regclass::text AS p, status FROM payment ORDER BY id');
      expect(rows.map((r) => [r.id, r.status])).toEqual([
        [ids[0], 'FAILED'],
        [ids[1], 'SUCCEEDED'],
      ]);
      expect(rows[0]!.p).toBe('payment_p_before');
      expect(rows[1]!.p).toMatch(/^payment_p\d{8}$/);
      const keys = await s.all<{ payment_id: string; active: boolean; payment_txn_id: string }>(
        'SELECT payment_id, active, payment_txn_id FROM payment_key ORDER BY payment_id',
      );
      expect(keys).toEqual([
        { payment_id: ids[0], active: false, payment_txn_id: 'txn-old' },
        { payment_id: ids[1], active: true, payment_txn_id: 'txn-new' },
      ]);
      // The refund's foreign key came back on the partitioned table.
      await expect(
        s.run(
          `INSERT INTO refund (id, payment_id, order_id, amount, currency, status, reason, kind) VALUES ('rfd_2', ?, ?, 1, 'CNY', 'REQUESTED', 'r', 'AFTER_SALE')`,
          [idAt('pay', new Date()), order],
        ),
      ).rejects.toThrow(/refund_payment_id_fkey/);
      // The converted table still refuses a second active payment of the order.
      await expect(insertPayment(order, 0, 'PENDING', null, scratch.orm.em.fork())).rejects.toThrow(/payment_one_active_per_order/);
    } finally {
      await scratch.drop();
    }
  });

  it('creates partitions ahead, once across replicas', async () => {
    expect(await partitionsAheadSeconds(orm.em.fork(), PAYMENT_PARTITIONS)).toBeGreaterThan(50 * 86_400);
    expect(await ensurePartitions(orm.em.fork(), PAYMENT_PARTITIONS, { periodDays: 7, aheadDays: 120 })).toBeGreaterThanOrEqual(8);
    expect(await partitionsAheadSeconds(orm.em.fork(), PAYMENT_PARTITIONS)).toBeGreaterThanOrEqual(120 * 86_400);
    expect(await ensurePartitions(orm.em.fork(), PAYMENT_PARTITIONS, { periodDays: 7, aheadDays: 120 })).toBe(0);

    const name = `payment:partitions:test:${randomBytes(4).toString('hex')}`;
    process.env.PAYMENT_PARTITIONS_AHEAD_DAYS = '150';
    try {
      const a = startPartitionJob(orm.em.fork(), PAYMENT_PARTITIONS, leaderLock(name));
      const b = startPartitionJob(orm.em.fork(), PAYMENT_PARTITIONS, leaderLock(name));
      const ticks = [await a.tick(), await b.tick()];
      expect(ticks.filter((t) => t === null)).toHaveLength(1);
      await a.stop();
      await b.stop();
    } finally {
      delete process.env.PAYMENT_PARTITIONS_AHEAD_DAYS;
    }
    expect(await partitionsAheadSeconds(orm.em.fork(), PAYMENT_PARTITIONS)).toBeGreaterThanOrEqual(149 * 86_400);
    const future = await insertPayment(orderId(), -100);
    expect(await paymentPartition(future)).toMatch(/^payment_p\d{8}$/);
  });

  it('a lookup by id, and one by order, reads one partition of payments', async () => {
    const order = orderId();
    await insertPayment(order, 400, 'FAILED');
    const latest = await insertPayment(order, 0);
    expect(await scannedRelations(orm.em.fork(), 'SELECT * FROM payment WHERE id = ?', [latest])).toEqual([await paymentPartition(latest)]);
    // By order: the ids from the unpartitioned key table, then the payments by id (latestPayments).
    expect(await scannedRelations(orm.em.fork(), 'SELECT payment_id FROM payment_key WHERE order_id = ?', [order])).toEqual(['payment_key']);
    const ids = await paymentIdsOfOrders(orm.em.fork(), [order], { activeOnly: true });
    expect(ids).toEqual([latest]);
    expect(await scannedRelations(orm.em.fork(), 'SELECT * FROM payment WHERE id IN (?)', ids)).toEqual([await paymentPartition(latest)]);
    expect((await latestPayments(orm.em.fork(), [order])).get(order)?.id).toBe(latest);
  });

  it('refuses a second active payment of an order, and a second payment of a provider transaction, across partitions', async () => {
    const order = orderId();
    const old = await insertPayment(order, 400, 'PENDING');
    expect(await paymentPartition(old)).toBe('payment_p_before');
    await expect(insertPayment(order, 0, 'PENDING')).rejects.toThrow(/payment_one_active_per_order/);
    // Once the old one failed the order may be paid again; the old one can then no longer succeed.
    await q().run(`UPDATE payment SET status = 'FAILED' WHERE id = ?`, [old]);
    const retry = await insertPayment(order, 0, 'PENDING');
    expect(await paymentPartition(retry)).not.toBe(await paymentPartition(old));
    await expect(q().run(`UPDATE payment SET status = 'SUCCEEDED' WHERE id = ?`, [old])).rejects.toThrow(/payment_one_active_per_order/);

    const txn = `txn-${randomBytes(4).toString('hex')}`;
    await insertPayment(orderId(), 400, 'SUCCEEDED', txn);
    await expect(insertPayment(orderId(), 0, 'FAILED', txn)).rejects.toThrow(/payment_txn_idx/);
    const other = await insertPayment(orderId(), 0, 'PENDING');
    await expect(q().run(`UPDATE payment SET payment_txn_id = ? WHERE id = ?`, [txn, other])).rejects.toThrow(/payment_txn_idx/);

    // A deleted payment takes its key with it.
    await q().run(`DELETE FROM payment WHERE id = ?`, [retry]);
    expect(await q().one('SELECT 1 FROM payment_key WHERE payment_id = ?', [retry])).toBeUndefined();
  });
});

describe('payment key retention', () => {
  const keyOf = (id: string) =>
    q().one<{ active: boolean; payment_txn_id: string | null }>('SELECT active, payment_txn_id FROM payment_key WHERE payment_id = ?', [id]);
  const prunedTotal = async () =>
    (await registry.getSingleMetric('retention_pruned_total')!.get()).values.find((v) => v.labels.table === 'payment_key')?.value ?? 0;
  const callback = (paymentId: string, paymentTxnId: string) => ({
    eventId: `cb-${randomBytes(6).toString('hex')}`,
    paymentTxnId,
    paymentId,
    status: 'SUCCEEDED' as const,
    amount: 1000,
    currency: 'CNY',
    occurredAt: new Date().toISOString(),
  });
  /** An order placed `ageDays` ago, its payment a minute later (as payOrder makes them). */
  const oldOrder = (ageDays: number) => idAt('ord', new Date(Date.now() - ageDays * day));
  const paymentOf = (order: string, minutesAfter = 1) => idAt('pay', new Date(Number.parseInt(order.slice(4, 16), 16) + minutesAfter * 60_000));

  it('prunes the key rows of payments older than the retention, in batches; lookups by order still answer from the partitions', async () => {
    const order = oldOrder(200);
    const failed = await insertPaymentWithId(paymentOf(order, 1), order, 'FAILED', null);
    const paid = await insertPaymentWithId(paymentOf(order, 5), order, 'SUCCEEDED', `txn-${randomBytes(4).toString('hex')}`);
    const others = await Promise.all([120, 100, 95].map(async (age) => insertPaymentWithId(paymentOf(oldOrder(age)), oldOrder(age), 'FAILED', null)));
    const younger = oldOrder(60);
    const kept = await insertPaymentWithId(paymentOf(younger), younger, 'SUCCEEDED', null);
    const recent = orderId();
    const live = await insertPayment(recent, 0, 'PENDING');

    const before = await prunedTotal();
    const policy = { ...retentionPolicy(), batchSize: 2 };
    const first = await pruneKeysOnce(orm, PAYMENT_KEYS, 90, { ...policy, maxBatches: 1 });
    expect(first.pruned).toBe(2);
    expect(first.waiting).toBeGreaterThanOrEqual(3);
    const rest = await pruneKeysOnce(orm, PAYMENT_KEYS, 90, { ...policy, maxBatches: 1000 });
    expect(rest.pruned).toBe(first.waiting);
    expect(rest.waiting).toBe(0);
    expect(await prunedTotal()).toBe(before + first.pruned + rest.pruned);
    for (const id of [failed, paid, ...others]) expect(await keyOf(id)).toBeUndefined();
    expect(await keyOf(kept)).toBeDefined();
    expect(await keyOf(live)).toEqual({ active: true, payment_txn_id: null });

    // The payments stay, and an order's payments are found without their keys.
    expect((await paymentIdsOfOrders(orm.em.fork(), [order, recent])).sort()).toEqual([failed, paid, live].sort());
    expect(await paymentIdsOfOrders(orm.em.fork(), [order], { activeOnly: true })).toEqual([paid]);
    const latest = await latestPayments(orm.em.fork(), [order, younger, recent]);
    expect([latest.get(order)?.id, latest.get(younger)?.id, latest.get(recent)?.id]).toEqual([paid, kept, live]);

    // A live order still has one active payment at most, whatever partition a second would be in.
    await expect(insertPayment(recent, -30, 'PENDING')).rejects.toThrow(/payment_one_active_per_order/);
    expect(await pruneKeysOnce(orm, PAYMENT_KEYS, 90, policy)).toEqual({ pruned: 0, waiting: 0 });
  });

  it('a late callback for a pruned payment is applied once; its transaction cannot capture another payment', async () => {
    const order = oldOrder(150);
    const abandoned = await insertPaymentWithId(paymentOf(order), order, 'PENDING', null);
    await pruneKeysOnce(orm, PAYMENT_KEYS, 90);
    expect(await keyOf(abandoned)).toBeUndefined();

    const txn = `txn-${randomBytes(4).toString('hex')}`;
    const late = callback(abandoned, txn);
    expect(await processCallback(orm.em.fork(), late, 'provider', 'test')).toEqual({ outcome: 'APPLIED' });
    expect(await processCallback(orm.em.fork(), late, 'provider', 'test')).toEqual({ outcome: 'DUPLICATE' });
    expect(await processCallback(orm.em.fork(), { ...late, eventId: `cb-${randomBytes(6).toString('hex')}` }, 'provider', 'test')).toEqual({
      outcome: 'DUPLICATE',
    });
    expect((await q().one<{ status: string }>('SELECT status FROM payment WHERE id = ?', [abandoned]))?.status).toBe('SUCCEEDED');
    // Its update wrote the key row again, where the unique indexes see it; the next pass prunes it.
    expect(await keyOf(abandoned)).toEqual({ active: true, payment_txn_id: txn });
    expect((await pruneKeysOnce(orm, PAYMENT_KEYS, 90)).pruned).toBeGreaterThanOrEqual(1);
    expect(await keyOf(abandoned)).toBeUndefined();

    // The same provider transaction reported for a live payment: one transaction captures one payment.
    const live = await insertPayment(orderId(), 0, 'PENDING');
    expect(await processCallback(orm.em.fork(), callback(live, txn), 'provider', 'test')).toEqual({ outcome: 'DUPLICATE' });
    expect((await q().one<{ status: string }>('SELECT status FROM payment WHERE id = ?', [live]))?.status).toBe('PENDING');
  });

  it('refuses a retention that would end a key before a duplicate can no longer come, and prunes on one replica', async () => {
    const days = (n: number) => ({ table: 'payment_key', retentionDays: () => n });
    expect(keyRetentionDays(days(90), 168)).toBe(90);
    expect(keyRetentionDays(days(14), 168)).toBe(14);
    expect(() => keyRetentionDays(days(13), 168)).toThrow(/at least 14 days/);
    expect(() => keyRetentionDays(days(19), 240)).toThrow(/at least 20 days/);
    process.env.PAYMENT_KEY_RETENTION_DAYS = '7';
    try {
      expect(() => startKeyRetention({ orm, keys: PAYMENT_KEYS })).toThrow(/payment_key must be kept at least 14 days/);
    } finally {
      delete process.env.PAYMENT_KEY_RETENTION_DAYS;
    }

    const name = `payment:key-retention:test:${randomBytes(4).toString('hex')}`;
    const a = startKeyRetention({ orm, keys: PAYMENT_KEYS, lock: leaderLock(name), intervalMs: 3_600_000 });
    const b = startKeyRetention({ orm, keys: PAYMENT_KEYS, lock: leaderLock(name), intervalMs: 3_600_000 });
    try {
      const ticks = [await a.tick(), await b.tick()];
      expect(ticks.filter((t) => t === null)).toHaveLength(1);
      expect(ticks.find((t) => t !== null)).toMatchObject({ waiting: 0 });
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
