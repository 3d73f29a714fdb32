import { dbNow, json, logger, sql, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';

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
  const header = await db(tx).selectFrom('reservation_order').select('state').where('order_id', '=', orderId).forUpdate().executeTakeFirst();
  if (header?.state !== 'CONFIRMED') throw new Error(`order ${orderId} returns stopped parcels but its reservation is ${header?.state ?? 'unknown'}`);
  const fresh = await db(tx)
    .insertInto('reservation_return')
    .values({ order_id: orderId, items: json([...lines]) })
    .onConflict((oc) => oc.column('order_id').doNothing())
    .executeTakeFirst();
  if (fresh.numInsertedOrUpdatedRows === 0n) return { changed: false };
  // Stock rows are locked in (sku_id, warehouse_id) byte order, as every inventory transaction does.
  const byte = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...lines].sort((a, b) => byte(a.skuId, b.skuId) || byte(a.warehouseId, b.warehouseId));
  for (const line of sorted) {
    const updated = await db(tx)
      .updateTable('stock')
      .set((eb) => ({ sold: eb('sold', '-', line.qty), available: eb('available', '+', line.qty), updated_at: dbNow() }))
      .where('sku_id', '=', line.skuId)
      .where('warehouse_id', '=', line.warehouseId)
      .where('sold', '>=', line.qty)
      .where((eb) =>
        eb(
          eb.val(line.qty),
          '<=',
          eb
            .selectFrom('reservation')
            .select((r) => r.fn.coalesce(r.fn.sum<number>('qty'), sql<number>`0`).as('n'))
            .where('order_id', '=', orderId)
            .where('sku_id', '=', line.skuId)
            .where('warehouse_id', '=', line.warehouseId)
            .where('state', '=', 'CONFIRMED'),
        ),
      )
      .executeTakeFirst();
    if (updated.numUpdatedRows !== 1n) throw new Error(`order ${orderId} did not sell ${line.qty} of ${line.skuId} in ${line.warehouseId}: nothing returned`);
  }
  logger.info({ orderId, lines: sorted.length }, 'stopped parcels of a refunded order returned to stock');
  return { changed: true };
}
