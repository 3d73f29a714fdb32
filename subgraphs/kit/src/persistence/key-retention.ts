import type { MikroORM } from '@mikro-orm/postgresql';
import { envInt } from '../config.js';
import { idFloor, idTime, type IdPrefix } from '../ids.js';
import { leaderLock, startLeaderJob, type LeaderJob, type LeaderLock } from '../leader-lock.js';
import { logger } from '../logger.js';
import { recordRetention, retentionPolicy, type RetentionPolicy } from '../messaging/retention.js';
import { kysely } from './kysely.js';

/**
 * Retention of the unpartitioned key tables of partitioned tables (payment_key, shipment_key;
 * README "Retention"). A key row holds what a unique index must see across partitions (one active
 * payment per order, one shipment per warehouse of an order). It is needed only while a duplicate
 * can still be attempted, and every such attempt comes early in the life of its row:
 * - a payment is created by payOrder only before its order's payment deadline (the order subgraph
 *   answers PENDING_PAYMENT and expireAt, minutes after placement), so no second payment of an order
 *   can be attempted days later; a second capture of one provider transaction is refused by
 *   payment_callback's unique (payment_txn_id, status), which is kept;
 * - shipments are created by inventory.stock-confirmed, which comes once when the order is paid
 *   and again only as a redelivery or a replay, both bounded by the deduplication horizon (the
 *   replay tool refuses older events), and a replay of the PAID that produced it, bounded the same:
 *   so within twice the horizon.
 * A key row older than `<SET>_KEY_RETENTION_DAYS` (at least KEY_RETENTION_MIN_DAYS and twice the
 * horizon) is past all of them and is deleted, in batches, by one replica. The partitioned row
 * stays; an update of it writes its key row again (the sync trigger), where the unique indexes
 * check it as before. Lookups by order read the partitions for orders whose key rows may be gone
 * (idsOfOrders).
 */
export interface KeyTable {
  /** Schema of the key table. */
  schema: string;
  /** The key table, e.g. payment_key. */
  table: string;
  /** Its column holding the id of the partitioned row (its primary key, a prefixed UUIDv7). */
  idColumn: string;
  /** The prefix of those ids. */
  prefix: IdPrefix;
  /** Reads `<SET>_KEY_RETENTION_DAYS` by its literal name (the deployment checks find it in the source). */
  retentionDays: () => number;
}

/** The fewest days a key row is kept, whatever the settings: above every window a duplicate can come in. */
export const KEY_RETENTION_MIN_DAYS = 14;

const DAY_MS = 86_400_000;
/** Allowance for the clocks of two processes: a row's id is taken at most this much before its order's. */
const CLOCK_SKEW_MS = DAY_MS;

/** The retention of a key table, checked: under KEY_RETENTION_MIN_DAYS or twice the deduplication horizon is refused. */
export function keyRetentionDays(keys: Pick<KeyTable, 'table' | 'retentionDays'>, horizonHours = retentionPolicy().inboxHours): number {
  const days = keys.retentionDays();
  const least = Math.max(KEY_RETENTION_MIN_DAYS, Math.ceil((2 * horizonHours) / 24));
  if (!Number.isInteger(days) || days < least) {
    throw new Error(
      `the key rows of ${keys.table} must be kept at least ${least} days (${KEY_RETENTION_MIN_DAYS}, and twice the deduplication horizon INBOX_DEDUP_HORIZON_HOURS = ${horizonHours} h), got ${days}`,
    );
  }
  return days;
}

type KeyDb = Record<string, Record<string, string>>;

export interface KeyPrunePass {
  pruned: number;
  /** Key rows past retention still there after the pass (counted up to a cap). */
  waiting: number;
}

/**
 * One pass over a key table: DELETEs of at most batchSize rows older than `days` (by their id, so
 * through the primary key), each its own short statement with SKIP LOCKED, until a batch comes back
 * short or maxBatches ran; then the metrics retention_pruned_total and retention_waiting.
 */
export async function pruneKeysOnce(
  orm: MikroORM,
  keys: KeyTable,
  days: number = keyRetentionDays(keys),
  policy: RetentionPolicy = retentionPolicy(),
): Promise<KeyPrunePass> {
  const cutoff = idFloor(keys.prefix, new Date(Date.now() - days * DAY_MS));
  const { table, idColumn } = keys;
  let pruned = 0;
  for (let batch = 0; batch < policy.maxBatches; batch++) {
    const result = await kysely<KeyDb>(orm.em.fork())
      .deleteFrom(table)
      .where(idColumn, 'in', (eb) =>
        eb.selectFrom(table).select(idColumn).where(idColumn, '<', cutoff).orderBy(idColumn).limit(policy.batchSize).forUpdate().skipLocked(),
      )
      .executeTakeFirst();
    const n = Number(result.numDeletedRows);
    pruned += n;
    if (n < policy.batchSize) break;
  }
  const db = kysely<KeyDb>(orm.em.fork());
  const past = db
    .selectFrom(table)
    .select(idColumn)
    .where(idColumn, '<', cutoff)
    .limit(policy.batchSize * policy.maxBatches * 10);
  const row = await db
    .selectFrom(past.as('p'))
    .select((e) => e.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  const waiting = Number(row.n);
  recordRetention(keys.schema, table, pruned, waiting);
  if (pruned > 0) logger.info({ schema: keys.schema, table, pruned, waiting, days }, 'key rows pruned');
  return { pruned, waiting };
}

/**
 * Runs pruneKeysOnce every RETENTION_INTERVAL_MS (as the outbox and inbox retention) on the replica
 * holding the leader lock `<schema>:key-retention`; a retention under the least allowed refuses to start.
 */
export function startKeyRetention(options: {
  orm: MikroORM;
  keys: KeyTable;
  lock?: LeaderLock;
  intervalMs?: number;
  policy?: RetentionPolicy;
}): LeaderJob<KeyPrunePass> {
  const policy = options.policy ?? retentionPolicy();
  const days = keyRetentionDays(options.keys, policy.inboxHours);
  return startLeaderJob({
    lock: options.lock ?? leaderLock(`${options.keys.schema}:key-retention`),
    intervalMs: options.intervalMs ?? envInt('RETENTION_INTERVAL_MS', 300_000),
    run: () => pruneKeysOnce(options.orm, options.keys, days, policy),
    onError: (err: unknown) => logger.warn({ err, table: options.keys.table }, 'key retention pass failed; will retry'),
  });
}

/** A row found for an order: its id and its order. */
export interface OrderRow {
  id: string;
  order_id: string;
}

/**
 * The ids of the rows of these orders (payments, shipments), from the key table while it still
 * holds them and from the partitioned table where it may not:
 * - an order created more than the retention (less a day for clocks) ago may have lost its key
 *   rows: its rows are read from the partitions, by order id, from a day before the order on
 *   (`fromRows` gets that lower bound of the rows' ids, undefined when an order id has no time);
 * - an order created more than KEY_RETENTION_MIN_DAYS ago whose key rows are not found is read
 *   from the partitions too (a replica whose setting is longer than the one that pruned them, during
 *   a change of the setting);
 * - the others are read from the key table (`fromKeys`), one indexed read whatever the partitions.
 * A row is created after its order (an allowance of a day for the clocks of two processes), so
 * key rows of an order younger than that cannot have been pruned.
 */
export async function idsOfOrders(
  orderIds: readonly string[],
  keys: Pick<KeyTable, 'prefix' | 'retentionDays'>,
  read: {
    fromKeys: (orderIds: string[]) => Promise<OrderRow[]>;
    fromRows: (orderIds: string[], idFrom: string | undefined) => Promise<OrderRow[]>;
  },
): Promise<string[]> {
  if (orderIds.length === 0) return [];
  const now = Date.now();
  const days = Math.max(KEY_RETENTION_MIN_DAYS, keys.retentionDays());
  const pruneable = now - days * DAY_MS + CLOCK_SKEW_MS;
  const ifMissing = now - KEY_RETENTION_MIN_DAYS * DAY_MS + CLOCK_SKEW_MS;
  const created = new Map(orderIds.map((id) => [id, idTime('ord', id)?.getTime()]));
  const viaRows = orderIds.filter((id) => (created.get(id) ?? -Infinity) < pruneable);
  const viaKeys = orderIds.filter((id) => (created.get(id) ?? -Infinity) >= pruneable);
  const keyed = viaKeys.length > 0 ? await read.fromKeys(viaKeys) : [];
  const found = new Set(keyed.map((k) => k.order_id));
  viaRows.push(...viaKeys.filter((id) => !found.has(id) && created.get(id)! < ifMissing));
  if (viaRows.length === 0) return keyed.map((k) => k.id);
  const times = viaRows.map((id) => created.get(id));
  const earliest = times.every((t) => t !== undefined) ? Math.min(...(times as number[])) : undefined;
  const rows = await read.fromRows(viaRows, earliest === undefined ? undefined : idFloor(keys.prefix, new Date(Math.max(0, earliest - CLOCK_SKEW_MS))));
  return [...keyed, ...rows].map((r) => r.id);
}
