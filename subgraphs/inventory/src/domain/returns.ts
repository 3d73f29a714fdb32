import { logger, sql, type EntityManager } from '@shop/kit';

export interface ReturnLine {
  skuId: string;
  warehouseId: string;
  qty: number;
}

/**
 * A refunded order of which some parcels shipped: the parcels the refund stopped go back from sold
 * to available, once per order (reservation_return is the idempotency key); what shipped stays
 * sold. The order must be CONFIRMED (its stock sold), and a line can return at most what the
 * order's reservation sold there.
 */
export async function returnStopped(tx: EntityManager, orderId: string, lines: readonly ReturnLine[]): Promise<{ changed: boolean }> {
  const db = sql(tx);
  const [header] = await db.all<{ state: string }>('SELECT state FROM reservation_order WHERE order_id = ? FOR UPDATE', [orderId]);
  if (header?.state !== 'CONFIRMED') throw new Error(`order ${orderId} returns stopped parcels but its reservation is ${header?.state ?? 'unknown'}`);
  const fresh = await db.run('INSERT INTO reservation_return (order_id, items) VALUES (?, ?::jsonb) ON CONFLICT (order_id) DO NOTHING', [
    orderId,
    JSON.stringify(lines),
  ]);
  if (fresh === 0) return { changed: false };
  // Stock rows are locked in (sku_id, warehouse_id) byte order, as every inventory transaction does.
  const byte = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...lines].sort((a, b) => byte(a.skuId, b.skuId) || byte(a.warehouseId, b.warehouseId));
  for (const line of sorted) {
    const updated = await db.run(
      `UPDATE stock SET sold = sold - ?, available = available + ?, updated_at = now()
        WHERE sku_id = ? AND warehouse_id = ? AND sold >= ?
          AND ? <= (SELECT COALESCE(sum(qty), 0) FROM reservation WHERE order_id = ? AND sku_id = ? AND warehouse_id = ? AND state = 'CONFIRMED')`,
      [line.qty, line.qty, line.skuId, line.warehouseId, line.qty, line.qty, orderId, line.skuId, line.warehouseId],
    );
    if (updated !== 1) throw new Error(`order ${orderId} did not sell ${line.qty} of ${line.skuId} in ${line.warehouseId}: nothing returned`);
  }
  logger.info({ orderId, lines: sorted.length }, 'stopped parcels of a refunded order returned to stock');
  return { changed: true };
}
