import { badInput, groupBy, type EntityManager, dbNow } from '@shop/kit';
import { db } from '../persistence.js';

export const MAX_ON_HAND = 1_000_000;
const WAREHOUSE_ID = /^[A-Za-z0-9_-]{1,64}$/;

const stockRows = (em: EntityManager, skuIds: readonly string[]) =>
  db(em)
    .selectFrom('stock')
    .select(['sku_id as skuId', 'warehouse_id as warehouseId', 'available', 'reserved', 'sold'])
    .where('sku_id', 'in', [...skuIds])
    .orderBy('sku_id')
    .orderBy('warehouse_id')
    .execute();

/** One SKU's quantities in one warehouse; on hand is derived: available + reserved + sold. */
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
 * One conditional upsert: available becomes onHand - reserved - sold, and only when that is not
 * negative, so a concurrent reservation can never be overwritten or driven below zero.
 */
export async function setOnHand(em: EntityManager, skuId: string, warehouseId: string, onHand: number): Promise<void> {
  await em.transactional(async (tx) => {
    await db(tx)
      .insertInto('warehouse')
      .values({ id: warehouseId })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    const res = await db(tx)
      .insertInto('stock')
      .values({ sku_id: skuId, warehouse_id: warehouseId, available: onHand, reserved: 0, sold: 0 })
      .onConflict((oc) =>
        oc
          .columns(['sku_id', 'warehouse_id'])
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
    const reserved = row?.reserved ?? 0;
    const sold = row?.sold ?? 0;
    throw badInput(
      `onHand ${onHand} is below what ${warehouseId} already committed for this SKU: ${reserved} reserved and ${sold} sold (at least ${reserved + sold})`,
      { field: 'onHand', reserved, sold },
    );
  });
}
