import { envInt, leaderLock, logger, sql, type EntityManager, type LeaderLock } from '@shop/kit';
import { db } from '../persistence.js';

/**
 * Partitions of orders, order_item and order_event (range by order id, i.e. by time: ids are
 * UUIDv7), created ahead by the database function ensure_order_partitions
 * (Migration20261202110000_partitions). One order replica at a time (leader lock
 * `ordering:partitions`) makes sure that partitions exist ORDER_PARTITIONS_AHEAD_DAYS ahead,
 * ORDER_PARTITION_DAYS each, at start and every ORDER_PARTITION_CHECK_MS. An order whose id falls
 * after the last partition could not be stored, so the gauge order_partitions_ahead_seconds
 * (operator-cases.ts) says how far ahead they reach (alert OrderPartitionsRunningOut below 7 days).
 */
export interface PartitionSettings {
  periodDays: number;
  aheadDays: number;
}

export function partitionSettings(): PartitionSettings {
  const settings = { periodDays: envInt('ORDER_PARTITION_DAYS', 7), aheadDays: envInt('ORDER_PARTITIONS_AHEAD_DAYS', 56) };
  if (settings.periodDays < 1 || settings.periodDays > 366) throw new Error(`ORDER_PARTITION_DAYS must be from 1 to 366, got ${settings.periodDays}`);
  if (settings.aheadDays < 14)
    throw new Error(`ORDER_PARTITIONS_AHEAD_DAYS must be at least 14 (two weeks for an operator to notice a stopped job), got ${settings.aheadDays}`);
  return settings;
}

/** Creates the partitions missing until aheadDays from now; answers how many periods it created. */
export async function ensurePartitions(em: EntityManager, settings: PartitionSettings = partitionSettings()): Promise<number> {
  const row = await db(em)
    .selectNoFrom((eb) => eb.fn<number>('ensure_order_partitions', [eb.val(settings.periodDays), eb.val(settings.aheadDays)]).as('created'))
    .executeTakeFirstOrThrow();
  return Number(row.created);
}

/** Seconds from now to the end of the last partition (negative: orders from now on cannot be stored). */
export async function partitionsAheadSeconds(em: EntityManager): Promise<number> {
  const row = await db(em)
    .selectNoFrom(sql<string>`extract(epoch FROM order_partitions_end() - now())`.as('seconds'))
    .executeTakeFirstOrThrow();
  return Number(row.seconds);
}

export interface PartitionJob {
  tick(): Promise<number | null>;
  stop(): Promise<void>;
}

/** The partition maintenance of the order subgraph: on the leading replica, at start and then every ORDER_PARTITION_CHECK_MS. */
export function startPartitionJob(em: EntityManager, lock: LeaderLock = leaderLock('ordering:partitions')): PartitionJob {
  const settings = partitionSettings();
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = async (): Promise<number | null> => {
    if (stopped || !(await lock.acquire())) return null;
    const created = await ensurePartitions(em.fork(), settings);
    if (created > 0) logger.info({ created, ...settings }, 'order partitions created ahead');
    return created;
  };
  const schedule = () => {
    running = running.then(tick).catch((err: unknown) => logger.error({ err }, 'order partition maintenance failed; will retry'));
  };
  const timer = setInterval(schedule, envInt('ORDER_PARTITION_CHECK_MS', 3_600_000));
  timer.unref();
  schedule();
  return {
    tick: () => {
      const next = running.then(tick);
      running = next.catch(() => undefined);
      return next;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await lock.release();
    },
  };
}
