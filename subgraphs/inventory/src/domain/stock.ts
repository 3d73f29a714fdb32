import { badInput, type EntityManager, groupBy } from '@shop/kit';

export const MAX_ON_HAND = 1_000_000;
const WAREHOUSE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** One SKU's quantities in one warehouse; on hand is derived: available + reserved + sold. */
export interface WarehouseStockRow {
  skuId: string;
  warehouseId: string;
  available: number;
  reserved: number;
  sold: number;
}

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
  const rows = await em.getConnection().execute<WarehouseStockRow[]>(
    `SELECT sku_id AS "skuId", warehouse_id AS "warehouseId", available, reserved, sold
       FROM stock WHERE sku_id IN (?) ORDER BY sku_id, warehouse_id`,
    [[...skuIds]],
  );
  return groupBy(rows, (r) => r.skuId);
}

export async function listWarehouses(em: EntityManager): Promise<{ id: string; createdAt: Date }[]> {
  return em.getConnection().execute(`SELECT id, created_at AS "createdAt" FROM warehouse ORDER BY id`);
}

/**
 * Sets the on-hand quantity of a SKU in a warehouse (creating the warehouse when unknown).
 * One conditional upsert: available becomes onHand - reserved - sold, and only when that is not
 * negative, so a concurrent reservation can never be overwritten or driven below zero.
 */
export async function setOnHand(em: EntityManager, skuId: string, warehouseId: string, onHand: number): Promise<void> {
  await em.transactional(async (tx) => {
    const conn = tx.getConnection();
    const ctx = tx.getTransactionContext();
    await conn.execute('INSERT INTO warehouse (id) VALUES (?) ON CONFLICT (id) DO NOTHING', [warehouseId], 'run', ctx);
    const res = await conn.execute<{ affectedRows: number }>(
      `INSERT INTO stock AS s (sku_id, warehouse_id, available, reserved, sold) VALUES (?, ?, ?, 0, 0)
       ON CONFLICT (sku_id, warehouse_id) DO UPDATE
         SET available = excluded.available - s.reserved - s.sold, updated_at = now()
         WHERE excluded.available >= s.reserved + s.sold`,
      [skuId, warehouseId, onHand],
      'run',
      ctx,
    );
    if (res.affectedRows === 1) return;
    // Refused: read the numbers only to explain why (nothing is written from them).
    const [row] = await conn.execute<{ reserved: number; sold: number }[]>(
      'SELECT reserved, sold FROM stock WHERE sku_id = ? AND warehouse_id = ?',
      [skuId, warehouseId],
      'all',
      ctx,
    );
    const reserved = row?.reserved ?? 0;
    const sold = row?.sold ?? 0;
    throw badInput(
      `onHand ${onHand} is below what ${warehouseId} already committed for this SKU: ${reserved} reserved and ${sold} sold (at least ${reserved + sold})`,
      { field: 'onHand', reserved, sold },
    );
  });
}
