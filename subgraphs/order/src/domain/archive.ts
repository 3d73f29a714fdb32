import { dbSecondsAgo, kysely, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';
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

/** The tables an order's rows move between, orders first, each with the column that names the order. */
const ARCHIVED = [
  ['orders', 'id'],
  ['order_item', 'order_id'],
  ['order_event', 'order_id'],
  ['order_request', 'order_id'],
  ['refund_request', 'order_id'],
] as const;

/** One archived table as the loop sees it: the columns every one of them has that name an order. */
type MovedRow = { id: string; order_id: string };
type Moved = { [T in (typeof ARCHIVED)[number][0] as T | `${typeof ARCHIVE_SCHEMA}.${T}`]: MovedRow };
const withArchive = (em: EntityManager) => kysely<Moved>(em);

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
    for (const [table, key] of ARCHIVED) {
      await q
        .insertInto(`${ARCHIVE_SCHEMA}.${table}`)
        .expression(q.selectFrom(table).selectAll().where(key, 'in', ids))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    // Children first, orders last (their foreign keys point at orders).
    for (const [table, key] of [...ARCHIVED].reverse()) await q.deleteFrom(table).where(key, 'in', ids).execute();
    return ids.length;
  });
}
