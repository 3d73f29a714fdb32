import type { EntityManager } from '@mikro-orm/postgresql';
import type { IdPrefix } from '../ids.js';
import { leaderLock, startLeaderJob, type LeaderJob, type LeaderLock } from '../leader-lock.js';
import { logger } from '../logger.js';
import { kysely, sql } from './kysely.js';

/**
 * Tables range-partitioned by a prefixed UUIDv7 id (README "Data that grows"): the first 12 hex
 * digits of the UUID are its creation time in milliseconds, so a range of ids is a range of time,
 * a row's id names its partition and a lookup by id reads one partition. A partition set is the
 * tables partitioned with the same bounds (a parent and what it owns, partitioned by the parent's
 * id), maintained by the SQL function `ensure_<set>_partitions(period_days, ahead_days)`, which
 * creates the missing periods until `ahead_days` from now; `<set>_partitions_end()` says where the
 * last one ends. The order subgraph wrote its functions by hand (Migration20261202110000_partitions);
 * partitionFunctionsSql writes the same ones for another set.
 */
export interface PartitionSet {
  /** `order`, `payment`, `shipment`: names the SQL functions and the leader lock. */
  name: string;
  /** The id prefix of the partition key (the parent's ids). */
  prefix: IdPrefix;
  /** Schema of the tables. */
  schema: string;
  /** The parent table first, then the tables partitioned by its id, as [table, partition key column]. */
  tables: readonly (readonly [table: string, key: string])[];
  /**
   * Reads the set's settings from the environment (by their literal names, which the deployment
   * checks find in the source): `<SET>_PARTITION_DAYS` (default 7), `<SET>_PARTITIONS_AHEAD_DAYS`
   * (default 56), `<SET>_PARTITION_CHECK_MS` (default 3600000).
   */
  settings: () => PartitionSettings & { checkMs: number };
}

export interface PartitionSettings {
  periodDays: number;
  aheadDays: number;
}

/** The set's partition length and how far ahead partitions exist, checked. */
export function partitionSettings(set: Pick<PartitionSet, 'name' | 'settings'>): PartitionSettings {
  const { periodDays, aheadDays } = set.settings();
  if (periodDays < 1 || periodDays > 366) throw new Error(`the partitions of ${set.name} must be from 1 to 366 days long, got ${periodDays}`);
  if (aheadDays < 14)
    throw new Error(`the partitions of ${set.name} must exist at least 14 days ahead (two weeks for an operator to notice a stopped job), got ${aheadDays}`);
  return { periodDays, aheadDays };
}

/** Creates the partitions missing until aheadDays from now; answers how many periods it created. */
export async function ensurePartitions(em: EntityManager, set: Pick<PartitionSet, 'name' | 'settings'>, settings = partitionSettings(set)): Promise<number> {
  const { rows } = await sql<{
    created: number;
  }>`SELECT ${sql.id(`ensure_${set.name}_partitions`)}(${settings.periodDays}, ${settings.aheadDays}) AS created`.execute(kysely(em));
  return Number(rows[0]!.created);
}

/** Seconds from now to the end of the last partition (negative: rows from now on cannot be stored). */
export async function partitionsAheadSeconds(em: EntityManager, set: Pick<PartitionSet, 'name'>): Promise<number> {
  const end = sql.id(`${set.name}_partitions_end`);
  const row = await kysely(em)
    .selectNoFrom(sql<string | null>`extract(epoch FROM ${end}() - now())`.as('seconds'))
    .executeTakeFirst();
  return Number(row?.seconds ?? 0);
}

/**
 * The maintenance of a partition set: on the replica that holds the leader lock `<schema>:partitions`
 * (the order subgraph's is `ordering:partitions`), at start and then every `checkMs` of its settings.
 */
export function startPartitionJob(
  em: EntityManager,
  set: Pick<PartitionSet, 'name' | 'settings' | 'schema'>,
  lock: LeaderLock = leaderLock(`${set.schema}:partitions`),
): LeaderJob<number> {
  const settings = partitionSettings(set);
  return startLeaderJob({
    lock,
    intervalMs: set.settings().checkMs,
    runAtStart: true,
    run: async () => {
      const created = await ensurePartitions(em.fork(), set, settings);
      if (created > 0) logger.info({ created, set: set.name, ...settings }, 'partitions created ahead');
      return created;
    },
    onError: (err: unknown) => logger.error({ err, set: set.name }, 'partition maintenance failed; will retry'),
  });
}
