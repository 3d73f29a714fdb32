import {
  envInt,
  ensurePartitions as ensureSet,
  leaderLock,
  partitionSettings,
  partitionsAheadSeconds as aheadOf,
  startPartitionJob as startSetJob,
  type EntityManager,
  type LeaderJob,
  type LeaderLock,
  type PartitionSet,
  type PartitionSettings,
} from '@shop/kit';

/**
 * Partitions of orders, order_item and order_event (range by order id, i.e. by time: ids are
 * UUIDv7), created ahead by the database function ensure_order_partitions
 * (Migration20261202110000_partitions). One order replica at a time (leader lock
 * `ordering:partitions`) makes sure that partitions exist ORDER_PARTITIONS_AHEAD_DAYS ahead,
 * ORDER_PARTITION_DAYS each, at start and every ORDER_PARTITION_CHECK_MS (the kit's partition job).
 * An order whose id falls after the last partition could not be stored, so the gauge
 * order_partitions_ahead_seconds (operator-cases.ts) says how far ahead they reach (alert
 * OrderPartitionsRunningOut below 7 days).
 */
export const ORDER_PARTITIONS: PartitionSet = {
  name: 'order',
  prefix: 'ord',
  schema: 'ordering',
  tables: [
    ['orders', 'id'],
    ['order_item', 'order_id'],
    ['order_event', 'order_id'],
  ],
  settings: () => ({
    periodDays: envInt('ORDER_PARTITION_DAYS', 7),
    aheadDays: envInt('ORDER_PARTITIONS_AHEAD_DAYS', 56),
    checkMs: envInt('ORDER_PARTITION_CHECK_MS', 3_600_000),
  }),
};

export type PartitionJob = LeaderJob<number>;

/** Creates the partitions missing until aheadDays from now; answers how many periods it created. */
export const ensurePartitions = (em: EntityManager, settings: PartitionSettings = partitionSettings(ORDER_PARTITIONS)): Promise<number> =>
  ensureSet(em, ORDER_PARTITIONS, settings);

/** Seconds from now to the end of the last partition (negative: orders from now on cannot be stored). */
export const partitionsAheadSeconds = (em: EntityManager): Promise<number> => aheadOf(em, ORDER_PARTITIONS);

/** The partition maintenance of the order subgraph: on the leading replica, at start and then every ORDER_PARTITION_CHECK_MS. */
export const startPartitionJob = (em: EntityManager, lock: LeaderLock = leaderLock('ordering:partitions')): PartitionJob =>
  startSetJob(em, ORDER_PARTITIONS, lock);
