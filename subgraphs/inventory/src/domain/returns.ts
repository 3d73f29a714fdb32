import { dbNow, json, logger, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';

export interface ReturnLine {
  skuId: string;
  warehouseId: string;
  qty: number;
}

/**
 * A refunded order of which some parcels shipped: the parcels the refund stopped go back from sold
 * to available, once per order (reservation_return is the idempotency key); what shipped stays
 * sold. Each unit goes back to the stock bucket its hold took it from, and the hold counts it as
 * returned, so sold stays the sum of its CONFIRMED holds' qty - returned (invariants.ts). The order must be CONFIRMED (its stock sold), and a line can return at most what the
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
    // The units go back to the buckets the order's reservation took them from (buckets.ts), in bucket order.
    const sources = await db(tx)
      .selectFrom('reservation')
      .select((eb) => ['id', 'bucket', eb('qty', '-', eb.ref('returned')).as('qty')])
      .where('order_id', '=', orderId)
      .where('sku_id', '=', line.skuId)
      .where('warehouse_id', '=', line.warehouseId)
      .where('state', '=', 'CONFIRMED')
      .orderBy('bucket')
      .execute();
    if (sources.reduce((sum, r) => sum + r.qty, 0) < line.qty)
      throw new Error(`order ${orderId} did not sell ${line.qty} of ${line.skuId} in ${line.warehouseId}: nothing returned`);
    let remaining = line.qty;
    for (const source of sources) {
      const qty = Math.min(remaining, source.qty);
      if (qty === 0) break;
      const updated = await db(tx)
        .updateTable('stock')
        .set((eb) => ({ sold: eb('sold', '-', qty), available: eb('available', '+', qty), updated_at: dbNow() }))
        .where('sku_id', '=', line.skuId)
        .where('warehouse_id', '=', line.warehouseId)
        .where('bucket', '=', source.bucket)
        .where('sold', '>=', qty)
        .executeTakeFirst();
      if (updated.numUpdatedRows !== 1n)
        throw new Error(`stock of ${line.skuId} in ${line.warehouseId} (bucket ${source.bucket}) holds less sold than order ${orderId} returns (${qty})`);
      await db(tx)
        .updateTable('reservation')
        .set((eb) => ({ returned: eb('returned', '+', qty), updated_at: dbNow() }))
        .where('id', '=', source.id)
        .execute();
      remaining -= qty;
    }
  }
  logger.info({ orderId, lines: sorted.length }, 'stopped parcels of a refunded order returned to stock');
  return { changed: true };
}
