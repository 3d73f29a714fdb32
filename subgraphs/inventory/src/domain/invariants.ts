import type { EntityManager } from '@shop/kit';
import { db } from '../persistence.js';

export interface StockViolation {
  skuId: string;
  warehouseId: string;
  bucket: number;
  available: number;
  reserved: number;
  sold: number;
  /** sum of HOLD reservations of this stock row */
  held: number;
  /** sum of CONFIRMED reservations of this stock row, less what refunds returned of them */
  confirmed: number;
}

/**
 * Stock rows (buckets) that break an invariant, read in one statement (one snapshot): a negative quantity,
 * reserved != sum of HOLD reservations, or sold != sum of CONFIRMED reservations (less what a
 * refund's stopped parcels returned of them, returns.ts), each per bucket. On hand is not
 * stored (it is available + reserved + sold), so it cannot disagree. Empty means healthy.
 * Used by tests and benchmarks; `skuIds` narrows the check.
 */
export async function stockInvariantViolations(em: EntityManager, skuIds?: readonly string[]): Promise<StockViolation[]> {
  if (skuIds && skuIds.length === 0) return [];
  return db(em)
    .with('r', (w) =>
      w
        .selectFrom('reservation')
        .select((eb) => [
          'sku_id',
          'warehouse_id',
          'bucket',
          eb.fn.coalesce(eb.fn.sum<number>('qty').filterWhere('state', '=', 'HOLD'), eb.lit(0)).as('held'),
          eb.fn.coalesce(eb.fn.sum<number>(eb('qty', '-', eb.ref('returned'))).filterWhere('state', '=', 'CONFIRMED'), eb.lit(0)).as('confirmed'),
        ])
        .groupBy(['sku_id', 'warehouse_id', 'bucket']),
    )
    .selectFrom('stock as s')
    .leftJoin('r', (j) => j.onRef('r.sku_id', '=', 's.sku_id').onRef('r.warehouse_id', '=', 's.warehouse_id').onRef('r.bucket', '=', 's.bucket'))
    .select((eb) => [
      's.sku_id as skuId',
      's.warehouse_id as warehouseId',
      's.bucket',
      's.available',
      's.reserved',
      's.sold',
      eb.fn.coalesce('r.held', eb.lit(0)).$castTo<number>().as('held'),
      eb.fn.coalesce('r.confirmed', eb.lit(0)).$castTo<number>().as('confirmed'),
    ])
    .where((eb) =>
      eb.or([
        eb('s.available', '<', 0),
        eb('s.reserved', '<', 0),
        eb('s.sold', '<', 0),
        eb('s.reserved', '<>', eb.fn.coalesce('r.held', eb.lit(0))),
        eb('s.sold', '<>', eb.fn.coalesce('r.confirmed', eb.lit(0))),
      ]),
    )
    .$if(skuIds !== undefined, (q) => q.where('s.sku_id', 'in', [...skuIds!]))
    .execute();
}

/** Reservation headers whose rows disagree with them (a HOLD header with non-HOLD rows, ...). */
export function reservationInvariantViolations(em: EntityManager): Promise<{ orderId: string; state: string; rowState: string }[]> {
  return db(em)
    .selectFrom('reservation_order as o')
    .innerJoin('reservation as r', 'r.order_id', 'o.order_id')
    .select(['o.order_id as orderId', 'o.state', 'r.state as rowState'])
    .whereRef('o.state', '<>', 'r.state')
    .execute();
}
