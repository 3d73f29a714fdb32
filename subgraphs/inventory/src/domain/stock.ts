import { badInput, groupBy, type EntityManager, dbNow } from '@shop/kit';
import { db } from '../persistence.js';
import { spread } from './buckets.js';

export const MAX_ON_HAND = 1_000_000;
const WAREHOUSE_ID = /^[A-Za-z0-9_-]{1,64}$/;

// A bucketed SKU's figures in a warehouse are the sums of its buckets (buckets.ts).
const stockRows = (em: EntityManager, skuIds: readonly string[]) =>
  db(em)
    .selectFrom('stock')
    .select((eb) => [
      'sku_id as skuId',
      'warehouse_id as warehouseId',
      eb.fn.sum<number>('available').$castTo<number>().as('available'),
      eb.fn.sum<number>('reserved').$castTo<number>().as('reserved'),
      eb.fn.sum<number>('sold').$castTo<number>().as('sold'),
    ])
    .where('sku_id', 'in', [...skuIds])
    .groupBy(['sku_id', 'warehouse_id'])
    .orderBy('sku_id')
    .orderBy('warehouse_id')
    .execute()
    .then((rows) => rows.map((r) => ({ ...r, available: Number(r.available), reserved: Number(r.reserved), sold: Number(r.sold) })));

/** One SKU's quantities in one warehouse (summed over its buckets); on hand is derived: available + reserved + sold. */
export type WarehouseStockRow = Awaited<ReturnType<typeof stockRows>>[number];

export function parseWarehouseId(value: string): string {
  if (!WAREHOUSE_ID.test(value)) {
    throw badInput(`warehouseId must be 1..64 letters, digits, "_" or "-", got "${value.slice(0, 70)}"`, { field: 'warehouseId' });
  }
  return value;
}

export function parseOnHand(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_ON_HAND) {
    throw badInput(`onHand must be an integer in 0..${MAX_ON_HAND}, got ${value}`, { field: 'onHand' });
  }
  return value;
}

/** Stock rows of many SKUs in one query (the Sku reference resolver batches through this). */
export async function stockBySkus(em: EntityManager, skuIds: readonly string[]): Promise<Map<string, WarehouseStockRow[]>> {
  if (skuIds.length === 0) return new Map();
  const rows = await stockRows(em, skuIds);
  return groupBy(rows, (r) => r.skuId);
}

export function listWarehouses(em: EntityManager): Promise<{ id: string; createdAt: string }[]> {
  return db(em).selectFrom('warehouse').select(['id', 'created_at as createdAt']).orderBy('id').execute();
}

/**
 * Sets the on-hand quantity of a SKU in a warehouse (creating the warehouse when unknown).
 * A normal SKU: one conditional upsert: available becomes onHand - reserved - sold, and only when
 * that is not negative, so a concurrent reservation can never be overwritten or driven below zero.
 * A SKU with `buckets` > 1 (a flash-sale SKU), or one already spread over buckets: setBucketed.
 */
export async function setOnHand(em: EntityManager, skuId: string, warehouseId: string, onHand: number, buckets = 1): Promise<void> {
  await em.transactional(async (tx) => {
    await db(tx)
      .insertInto('warehouse')
      .values({ id: warehouseId })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    const spreadAlready = await db(tx)
      .selectFrom('stock')
      .select('bucket')
      .where('sku_id', '=', skuId)
      .where('warehouse_id', '=', warehouseId)
      .where('bucket', '>', 0)
      .limit(1)
      .executeTakeFirst();
    if (buckets > 1 || spreadAlready) return setBucketed(tx, skuId, warehouseId, onHand, buckets);
    const res = await db(tx)
      .insertInto('stock')
      .values({ sku_id: skuId, warehouse_id: warehouseId, available: onHand, reserved: 0, sold: 0 })
      .onConflict((oc) =>
        oc
          .columns(['sku_id', 'warehouse_id', 'bucket'])
          .doUpdateSet((eb) => ({
            available: eb(eb('excluded.available', '-', eb.ref('stock.reserved')), '-', eb.ref('stock.sold')),
            updated_at: dbNow(),
          }))
          .where((eb) => eb('excluded.available', '>=', eb(eb.ref('stock.reserved'), '+', eb.ref('stock.sold')))),
      )
      .executeTakeFirst();
    if (res.numInsertedOrUpdatedRows === 1n) return;
    // Refused: read the numbers only to explain why (nothing is written from them).
    const row = await db(tx)
      .selectFrom('stock')
      .select(['reserved', 'sold'])
      .where('sku_id', '=', skuId)
      .where('warehouse_id', '=', warehouseId)
      .executeTakeFirst();
    throw belowCommitted(warehouseId, onHand, row?.reserved ?? 0, row?.sold ?? 0);
  });
}

const belowCommitted = (warehouseId: string, onHand: number, reserved: number, sold: number) =>
  badInput(
    `onHand ${onHand} is below what ${warehouseId} already committed for this SKU: ${reserved} reserved and ${sold} sold (at least ${reserved + sold})`,
    { field: 'onHand', reserved, sold },
  );

/**
 * Sets the on-hand quantity of a bucketed SKU in a warehouse: locks its bucket rows (in bucket
 * order, as a rebalance does), creates the missing ones up to `buckets`, and spreads the available
 * units (onHand minus every bucket's reserved and sold) evenly over them. A bucket's reserved and
 * sold stay where their reservations took them.
 */
async function setBucketed(tx: EntityManager, skuId: string, warehouseId: string, onHand: number, buckets: number): Promise<void> {
  await db(tx)
    .insertInto('stock')
    .values(Array.from({ length: buckets }, (_, bucket) => ({ sku_id: skuId, warehouse_id: warehouseId, bucket, available: 0, reserved: 0, sold: 0 })))
    .onConflict((oc) => oc.columns(['sku_id', 'warehouse_id', 'bucket']).doNothing())
    .execute();
  const rows = await db(tx)
    .selectFrom('stock')
    .select(['bucket', 'reserved', 'sold'])
    .where('sku_id', '=', skuId)
    .where('warehouse_id', '=', warehouseId)
    .orderBy('bucket')
    .forUpdate()
    .execute();
  const reserved = rows.reduce((sum, r) => sum + r.reserved, 0);
  const sold = rows.reduce((sum, r) => sum + r.sold, 0);
  if (onHand < reserved + sold) throw belowCommitted(warehouseId, onHand, reserved, sold);
  const shares = spread(onHand - reserved - sold, rows.length);
  for (const [i, row] of rows.entries())
    await db(tx)
      .updateTable('stock')
      .set({ available: shares[i]!, updated_at: dbNow() })
      .where('sku_id', '=', skuId)
      .where('warehouse_id', '=', warehouseId)
      .where('bucket', '=', row.bucket)
      .execute();
}
