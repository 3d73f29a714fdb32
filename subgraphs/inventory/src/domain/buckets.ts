import { dbNow, logger, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';

/**
 * Bucketed hot stock (seed-design §11.2, §17 example 6). A flash-sale SKU's stock in a warehouse is
 * spread over FLASH_STOCK_BUCKETS rows (stock.bucket 0..N-1) so concurrent reservations lock
 * different rows; a normal SKU keeps its one row (bucket 0). Each row keeps
 * available + reserved + sold, so the SKU's figures are the sums and every move below keeps them.
 * `npm run bench:hot-stock` measured reservations from one row against bucket rows with pgbench:
 * one row 236/s, 4 buckets 344/s, 16 buckets 984/s (50 clients, 2 cores, load average 26).
 */
export const FLASH_STOCK_BUCKETS = 16;

/** Even shares of `units` over `n` buckets: the first `units % n` get one more. */
export function spread(units: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.floor(units / n) + (i < units % n ? 1 : 0));
}

/**
 * Takes `qty` from one bucket of a bucketed SKU in a warehouse: one conditional UPDATE of a bucket
 * picked at random (`available >= qty`). When that bucket cannot serve it (empty, or a concurrent
 * reservation emptied it), the buckets are rebalanced and the take made in the same statement
 * (takeRebalanced). Answers the bucket taken from, or null when the warehouse holds less than `qty`.
 */
export async function takeFromBuckets(tx: EntityManager, skuId: string, warehouseId: string, qty: number, buckets: number): Promise<number | null> {
  const bucket = Math.floor(Math.random() * buckets);
  const taken = await db(tx)
    .updateTable('stock')
    .set((eb) => ({ available: eb('available', '-', qty), reserved: eb('reserved', '+', qty), updated_at: dbNow() }))
    .where('sku_id', '=', skuId)
    .where('warehouse_id', '=', warehouseId)
    .where('bucket', '=', bucket)
    .where('available', '>=', qty)
    .executeTakeFirst();
  if (taken.numUpdatedRows === 1n) return bucket;
  return takeRebalanced(tx, skuId, warehouseId, { bucket, qty });
}

/**
 * Rebalances the buckets of one SKU in one warehouse in one transaction: locks them all (in bucket
 * order, so two rebalances queue instead of deadlocking), spreads their available units evenly,
 * and, with `take`, takes its quantity from its bucket in the same UPDATE. Only `available` moves
 * between buckets (and, for the take, into `reserved`), so the warehouse's sums and the invariant
 * available + reserved + sold = on hand hold before and after. Answers the bucket taken from, the
 * bucket count when there is nothing to take, or null when the buckets hold less than the take.
 */
export async function takeRebalanced(
  tx: EntityManager,
  skuId: string,
  warehouseId: string,
  take: { bucket: number; qty: number } | null,
): Promise<number | null> {
  const rows = await db(tx)
    .selectFrom('stock')
    .select(['bucket', 'available'])
    .where('sku_id', '=', skuId)
    .where('warehouse_id', '=', warehouseId)
    .orderBy('bucket')
    .forUpdate()
    .execute();
  const total = rows.reduce((sum, r) => sum + r.available, 0);
  const qty = take?.qty ?? 0;
  if (rows.length === 0 || total < qty) return null;
  const target = take ? (rows.find((r) => r.bucket === take.bucket) ?? rows[0]!).bucket : rows[0]!.bucket;
  const shares = spread(total - qty, rows.length);
  const next = new Map(rows.map((r, i) => [r.bucket, shares[i]!]));
  await db(tx)
    .updateTable('stock')
    .set((eb) => {
      const share = (bucket: number) => eb.cast<number>(eb.val(next.get(bucket)!), 'integer');
      const [first, ...others] = rows;
      const available = others.reduce(
        (c, r) => c.when('bucket', '=', r.bucket).then(share(r.bucket)),
        eb.case().when('bucket', '=', first!.bucket).then(share(first!.bucket)),
      );
      return {
        available: available.else(eb.ref('available')).end(),
        reserved: eb
          .case()
          .when('bucket', '=', target)
          .then(eb('reserved', '+', qty))
          .else(eb.ref('reserved'))
          .end(),
        updated_at: dbNow(),
      };
    })
    .where('sku_id', '=', skuId)
    .where('warehouse_id', '=', warehouseId)
    .where(
      'bucket',
      'in',
      rows.map((r) => r.bucket),
    )
    .execute();
  logger.debug({ skuId, warehouseId, buckets: rows.length, available: total - qty }, 'stock buckets rebalanced');
  return take ? target : rows.length;
}
