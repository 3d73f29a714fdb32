import type { MikroORM } from '@mikro-orm/postgresql';
import { computedGauge, envInt, keyTableSyncSql, partitionsAheadSeconds, type PartitionSet } from '@shop/kit';

/**
 * Shipments are range-partitioned by shipment id (UUIDv7, so by the time the shipment was created)
 * and their items by shipment id with the same bounds (Migration20261202150000_partitions), created
 * ahead by the fulfillment subgraph's partition job (SHIPMENT_PARTITION_DAYS,
 * SHIPMENT_PARTITIONS_AHEAD_DAYS, SHIPMENT_PARTITION_CHECK_MS). One shipment per warehouse of an
 * order (what makes a redelivered stock-confirmed create nothing) cannot be a unique index of the
 * partitioned table, so it lives in the unpartitioned key table shipment_key, one narrow row per
 * shipment kept in step by a trigger; lookups by order read the shipment ids there and then one
 * partition per shipment.
 */
export const SHIPMENT_PARTITIONS: PartitionSet = {
  name: 'shipment',
  prefix: 'shp',
  schema: 'fulfillment',
  tables: [
    ['shipment', 'id'],
    ['shipment_item', 'shipment_id'],
  ],
  settings: () => ({
    periodDays: envInt('SHIPMENT_PARTITION_DAYS', 7),
    aheadDays: envInt('SHIPMENT_PARTITIONS_AHEAD_DAYS', 56),
    checkMs: envInt('SHIPMENT_PARTITION_CHECK_MS', 3_600_000),
  }),
};

/**
 * The trigger that keeps shipment_key in step with shipment (its entity declares it; the migration
 * creates it): every insert, update and delete of a shipment writes its key row in the same
 * transaction, so a duplicate key is refused by shipment_key's unique indexes.
 */
export const SHIPMENT_KEY_SYNC = keyTableSyncSql({
  schema: 'fulfillment',
  table: 'shipment',
  keyTable: 'shipment_key',
  idColumn: 'shipment_id',
  values: { order_id: 'NEW.order_id', warehouse_id: 'NEW.warehouse_id' },
  watch: ['order_id', 'warehouse_id'],
});

let source: MikroORM | undefined;
/** Serves the gauge shipment_partitions_ahead_seconds from this ORM (alert ShipmentPartitionsRunningOut). */
export const watchShipmentPartitions = (orm: MikroORM): void => {
  source = orm;
};
computedGauge(
  'shipment_partitions_ahead_seconds',
  'how far ahead of now the last partition of fulfillment.shipment reaches, seconds (partitions.ts)',
  async () => (source ? partitionsAheadSeconds(source.em.fork(), SHIPMENT_PARTITIONS) : 0),
);
