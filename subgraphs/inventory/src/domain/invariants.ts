import type { EntityManager } from '@shop/kit';

export interface StockViolation {
  skuId: string;
  warehouseId: string;
  available: number;
  reserved: number;
  sold: number;
  /** sum of HOLD reservations of this stock row */
  held: number;
  /** sum of CONFIRMED reservations of this stock row */
  confirmed: number;
}

/**
 * Stock rows that break an invariant, read in one statement (one snapshot): a negative quantity,
 * reserved != sum of HOLD reservations, or sold != sum of CONFIRMED reservations. On hand is not
 * stored (it is available + reserved + sold), so it cannot disagree. Empty means healthy.
 * Used by tests and benchmarks; `skuIds` narrows the check.
 */
export async function stockInvariantViolations(em: EntityManager, skuIds?: readonly string[]): Promise<StockViolation[]> {
  if (skuIds && skuIds.length === 0) return [];
  return em.getConnection().execute<StockViolation[]>(
    `WITH r AS (
       SELECT sku_id, warehouse_id,
              coalesce(sum(qty) FILTER (WHERE state = 'HOLD'), 0)::int AS held,
              coalesce(sum(qty) FILTER (WHERE state = 'CONFIRMED'), 0)::int AS confirmed
         FROM reservation GROUP BY sku_id, warehouse_id)
     SELECT s.sku_id AS "skuId", s.warehouse_id AS "warehouseId", s.available, s.reserved, s.sold,
            coalesce(r.held, 0) AS held, coalesce(r.confirmed, 0) AS confirmed
       FROM stock s LEFT JOIN r ON r.sku_id = s.sku_id AND r.warehouse_id = s.warehouse_id
      WHERE (s.available < 0 OR s.reserved < 0 OR s.sold < 0
             OR s.reserved <> coalesce(r.held, 0) OR s.sold <> coalesce(r.confirmed, 0))
        ${skuIds ? 'AND s.sku_id IN (?)' : ''}`,
    skuIds ? [[...skuIds]] : [],
  );
}

/** Reservation headers whose rows disagree with them (a HOLD header with non-HOLD rows, ...). */
export async function reservationInvariantViolations(em: EntityManager): Promise<{ orderId: string; state: string; rowState: string }[]> {
  return em.getConnection().execute(
    `SELECT o.order_id AS "orderId", o.state, r.state AS "rowState"
       FROM reservation_order o JOIN reservation r ON r.order_id = o.order_id
      WHERE o.state <> r.state`,
  );
}
