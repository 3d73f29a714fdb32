import { dbSecondsAgo, kysely, type EntityManager } from '@shop/kit';
import { db, type Db } from '../persistence.js';
import { ARCHIVE_SCHEMA } from './orders.js';

/**
 * The archive of cold orders (seed §14.3): an order closed (COMPLETED, CANCELED or REFUNDED) for
 * longer than the archive age moves, with its items, audit trail, idempotency key and refunds, from
 * the live tables of `ordering` to the same tables in `ordering_archive` (created by
 * Migration20261202110000_partitions; a migration that changes a live table changes its archive
 * twin too). `order(id)` and `orders` read the archive when the live tables do not have an order
 * (orders.ts). Each batch moves its orders in one transaction, so a run that stops anywhere leaves
 * every order either live or archived, and the next run continues with what is left.
 */
export const CLOSED_STATUSES = ['COMPLETED', 'CANCELED', 'REFUNDED'] as const;

/** The youngest an archived order may be: late events (payment callbacks, reconciliation, broker retries) are long over by then. */
export const MIN_ARCHIVE_DAYS = 7;

type ArchiveTables = {
  [T in 'orders' | 'order_item' | 'order_event' | 'order_request' | 'refund_request' as `${typeof ARCHIVE_SCHEMA}.${T}`]: Db[T];
};
const withArchive = (em: EntityManager) => kysely<Db & ArchiveTables>(em);

const closedBefore = (q: ReturnType<typeof db>, days: number) =>
  q
    .selectFrom('orders')
    .where('status', 'in', [...CLOSED_STATUSES])
    .where('updated_at', '<', dbSecondsAgo(days * 86_400));

/** How many orders are archivable now, and the oldest and newest of their ids. */
export async function archivable(em: EntityManager, days: number): Promise<{ count: number; first: string | null; last: string | null }> {
  const row = await closedBefore(db(em), days)
    .select((eb) => [eb.fn.countAll<string>().as('count'), eb.fn.min('id').as('first'), eb.fn.max('id').as('last')])
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), first: row.first ?? null, last: row.last ?? null };
}

/**
 * Moves one batch of archivable orders (oldest ids first; rows another run holds are skipped) and
 * answers how many it moved. Inserts into the archive ignore rows already there, so a batch is
 * safe to repeat.
 */
export async function archiveBatch(em: EntityManager, days: number, batchSize: number): Promise<number> {
  return em.fork().transactional(async (tx) => {
    const ids = (await closedBefore(db(tx), days).select('id').orderBy('id').limit(batchSize).forUpdate().skipLocked().execute()).map((r) => r.id);
    if (ids.length === 0) return 0;
    const q = withArchive(tx);
    await q
      .insertInto(`${ARCHIVE_SCHEMA}.orders`)
      .expression(db(tx).selectFrom('orders').selectAll().where('id', 'in', ids))
      .onConflict((oc) => oc.doNothing())
      .execute();
    await q
      .insertInto(`${ARCHIVE_SCHEMA}.order_item`)
      .expression(db(tx).selectFrom('order_item').selectAll().where('order_id', 'in', ids))
      .onConflict((oc) => oc.doNothing())
      .execute();
    await q
      .insertInto(`${ARCHIVE_SCHEMA}.order_event`)
      .expression(db(tx).selectFrom('order_event').selectAll().where('order_id', 'in', ids))
      .onConflict((oc) => oc.doNothing())
      .execute();
    await q
      .insertInto(`${ARCHIVE_SCHEMA}.order_request`)
      .expression(db(tx).selectFrom('order_request').selectAll().where('order_id', 'in', ids))
      .onConflict((oc) => oc.doNothing())
      .execute();
    await q
      .insertInto(`${ARCHIVE_SCHEMA}.refund_request`)
      .expression(db(tx).selectFrom('refund_request').selectAll().where('order_id', 'in', ids))
      .onConflict((oc) => oc.doNothing())
      .execute();
    await db(tx).deleteFrom('order_event').where('order_id', 'in', ids).execute();
    await db(tx).deleteFrom('order_item').where('order_id', 'in', ids).execute();
    await db(tx).deleteFrom('refund_request').where('order_id', 'in', ids).execute();
    await db(tx).deleteFrom('order_request').where('order_id', 'in', ids).execute();
    await db(tx).deleteFrom('orders').where('id', 'in', ids).execute();
    return ids.length;
  });
}
