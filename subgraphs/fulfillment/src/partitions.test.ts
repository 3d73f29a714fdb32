import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ensurePartitions, openDatabase, partitionsAheadSeconds, pruneKeysOnce, retentionPolicy, type EntityManager } from '@shop/kit';
import { idAt, migratedWithRows, partitionOf, scannedRelations, sql } from '@shop/kit/testing';
import { SHIPMENT_KEYS, SHIPMENT_PARTITIONS } from './domain/partitions.js';
import { stopForRefund } from './domain/refund-policy.js';
import { lockSiblings } from './domain/shipment-state.js';
import { shipmentsByOrders } from './domain/shipments.js';
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
const partitionOfRow = (table: 'shipment' | 'shipment_item', column: string, id: string) => partitionOf(orm.em.fork(), table, column, id);

/** A shipment with one item, as createShipments writes them, its id created `ageDays` ago. */
async function insertShipment(order: string, warehouse: string, ageDays: number, em?: EntityManager, status = 'PENDING'): Promise<string> {
  const id = idAt('shp', new Date(Date.now() - ageDays * day));
  await q(em).run(`INSERT INTO shipment (id, order_id, user_id, warehouse_id, status) VALUES (?, ?, 'u_1', ?, ?)`, [id, order, warehouse, status]);
  await q(em).run(`INSERT INTO shipment_item (shipment_id, sku_id, qty, unit_price, currency) VALUES (?, 'sku_a', 1, 500, 'CNY')`, [id]);
  return id;
}

describe('shipment partitions', () => {
  it('the migration moves existing shipments and their items into partitions and fills their keys', async () => {
    const order = orderId();
    let ids: string[] = [];
    // The rows as they were before the partitions migration (and the index by order after it).
    const scratch = await migratedWithRows(database, 2, async (em) => {
      ids = [await insertShipment(order, 'wh-1', 30, em), await insertShipment(order, 'wh-2', 0, em)];
    });
    try {
      const s = q(scratch.orm.em.fork());
      const shipments = await s.all<{ id: string; p: string }>('SELECT id, tableoid::regclass::text AS p FROM shipment ORDER BY id');
      expect(shipments.map((r) => r.id)).toEqual(ids);
      expect(shipments[0]!.p).toBe('shipment_p_before');
      expect(shipments[1]!.p).toMatch(/^shipment_p\d{8}$/);
      const items = await s.all<{ shipment_id: string; p: string }>(
        'SELECT shipment_id, tableoid::regclass::text AS p FROM shipment_item ORDER BY shipment_id',
      );
      expect(items.map((r) => [r.shipment_id, r.p])).toEqual([
        [ids[0], 'shipment_item_p_before'],
        [ids[1], shipments[1]!.p.replace('shipment_', 'shipment_item_')],
      ]);
      expect(await s.all('SELECT shipment_id, order_id, warehouse_id FROM shipment_key ORDER BY shipment_id')).toEqual([
        { shipment_id: ids[0], order_id: order, warehouse_id: 'wh-1' },
        { shipment_id: ids[1], order_id: order, warehouse_id: 'wh-2' },
      ]);
      await expect(
        s.run(`INSERT INTO shipment_item (shipment_id, sku_id, qty, unit_price, currency) VALUES (?, 'sku_a', 1, 1, 'CNY')`, [idAt('shp', new Date())]),
      ).rejects.toThrow(/shipment_item_shipment_id_fkey/);
      await expect(insertShipment(order, 'wh-1', 0, scratch.orm.em.fork())).rejects.toThrow(/shipment_one_per_warehouse/);
    } finally {
      await scratch.drop();
    }
  });

  it('creates partitions ahead', async () => {
    expect(await partitionsAheadSeconds(orm.em.fork(), SHIPMENT_PARTITIONS)).toBeGreaterThan(50 * 86_400);
    expect(await ensurePartitions(orm.em.fork(), SHIPMENT_PARTITIONS, { periodDays: 7, aheadDays: 120 })).toBeGreaterThanOrEqual(8);
    expect(await partitionsAheadSeconds(orm.em.fork(), SHIPMENT_PARTITIONS)).toBeGreaterThanOrEqual(120 * 86_400);
    const future = await insertShipment(orderId(), 'wh-1', -100);
    expect(await partitionOfRow('shipment', 'id', future)).toMatch(/^shipment_p\d{8}$/);
    expect(await partitionOfRow('shipment_item', 'shipment_id', future)).toBe(
      (await partitionOfRow('shipment', 'id', future))!.replace('shipment_', 'shipment_item_'),
    );
  });

  it('a lookup by id, and one by order, reads one partition of shipments', async () => {
    const order = orderId();
    const id = await insertShipment(order, 'wh-1', 0);
    await insertShipment(orderId(), 'wh-1', 400);
    expect(await scannedRelations(orm.em.fork(), 'SELECT * FROM shipment WHERE id = ?', [id])).toEqual([await partitionOfRow('shipment', 'id', id)]);
    expect(await scannedRelations(orm.em.fork(), 'SELECT * FROM shipment_item WHERE shipment_id = ?', [id])).toEqual([
      await partitionOfRow('shipment_item', 'shipment_id', id),
    ]);
    // By order: the ids from the unpartitioned key table, then the shipments by id (shipmentsByOrders, lockSiblings).
    expect(await scannedRelations(orm.em.fork(), 'SELECT shipment_id FROM shipment_key WHERE order_id = ?', [order])).toEqual(['shipment_key']);
    expect((await shipmentsByOrders(orm.em.fork(), [order])).get(order)?.map((s) => s.id)).toEqual([id]);
    await orm.em.fork().transactional(async (tx) => expect((await lockSiblings(tx, order)).map((s) => s.id)).toEqual([id]));
  });

  it('refuses a second shipment of an order from one warehouse across partitions', async () => {
    const order = orderId();
    const old = await insertShipment(order, 'wh-1', 400);
    expect(await partitionOfRow('shipment', 'id', old)).toBe('shipment_p_before');
    await expect(insertShipment(order, 'wh-1', 0)).rejects.toThrow(/shipment_one_per_warehouse/);
    const other = await insertShipment(order, 'wh-2', 0);
    expect(await partitionOfRow('shipment', 'id', other)).not.toBe('shipment_p_before');
    await expect(q().run(`UPDATE shipment SET warehouse_id = 'wh-1' WHERE id = ?`, [other])).rejects.toThrow(/shipment_one_per_warehouse/);
  });
});

describe('shipment key retention', () => {
  const keyOf = (id: string) => q().one('SELECT order_id FROM shipment_key WHERE shipment_id = ?', [id]);
  /** An order placed `ageDays` ago (its shipments are inserted a little later, `ageDays` less a bit). */
  const orderAt = (ageDays: number) => idAt('ord', new Date(Date.now() - ageDays * day));

  it('prunes the key rows of shipments older than the retention, in batches; lookups, locks and the refund policy still see them', async () => {
    const order = orderAt(200);
    const delivered = await insertShipment(order, 'wh-1', 199.9, undefined, 'DELIVERED');
    const waiting = await insertShipment(order, 'wh-2', 199.9, undefined, 'PACKED');
    const others = await Promise.all([120, 100].map((age) => insertShipment(orderAt(age), 'wh-1', age - 0.1)));
    const younger = orderAt(60);
    const kept = await insertShipment(younger, 'wh-1', 59.9);
    const recent = orderId();
    const live = await insertShipment(recent, 'wh-1', 0);

    const policy = { ...retentionPolicy(), batchSize: 2 };
    const first = await pruneKeysOnce(orm, SHIPMENT_KEYS, 90, { ...policy, maxBatches: 1 });
    expect(first.pruned).toBe(2);
    expect(first.waiting).toBeGreaterThanOrEqual(2);
    const rest = await pruneKeysOnce(orm, SHIPMENT_KEYS, 90, { ...policy, maxBatches: 1000 });
    expect(rest.pruned).toBeGreaterThanOrEqual(2);
    expect(rest.waiting).toBe(0);
    for (const id of [delivered, waiting, ...others]) expect(await keyOf(id)).toBeUndefined();
    expect(await keyOf(kept)).toBeDefined();
    expect(await keyOf(live)).toBeDefined();

    // Order.shipments, the lock on the siblings of a move, all from the partitions by order.
    const found = await shipmentsByOrders(orm.em.fork(), [order, younger, recent]);
    expect([found.get(order)?.map((s) => s.id), found.get(younger)?.map((s) => s.id), found.get(recent)?.map((s) => s.id)]).toEqual([
      [delivered, waiting],
      [kept],
      [live],
    ]);
    await orm.em.fork().transactional(async (tx) => expect((await lockSiblings(tx, order)).map((s) => s.id)).toEqual([delivered, waiting].sort()));
    // A refund of the old order still sees its delivered parcel (approval) and stops the packed one.
    expect(await stopForRefund(orm.em.fork(), order, 'admin_test', 'test')).toMatchObject({ shipped: true, canceled: 1 });
    expect((await q().one<{ status: string }>('SELECT status FROM shipment WHERE id = ?', [waiting]))?.status).toBe('CANCELED');

    // A live order still gets one shipment per warehouse, whatever partition a second would be in.
    await expect(insertShipment(recent, 'wh-1', -30)).rejects.toThrow(/shipment_one_per_warehouse/);
  });
});
