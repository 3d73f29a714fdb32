import type { MikroORM } from '@mikro-orm/postgresql';
import { computedGauge, envInt, keyTableSyncSql, partitionsAheadSeconds, type KeyTable, type PartitionSet } from '@shop/kit';

/**
 * Shipments are range-partitioned by shipment id (UUIDv7, so by the time the shipment was created)
 * and their items by shipment id with the same bounds (Migration20261202150000_partitions), created
 * ahead by the fulfillment subgraph's partition job (SHIPMENT_PARTITION_DAYS,
 * SHIPMENT_PARTITIONS_AHEAD_DAYS, SHIPMENT_PARTITION_CHECK_MS). One shipment per warehouse of an
 * order (what makes a redelivered stock-confirmed create nothing) cannot be a unique index of the
 * partitioned table, so it lives in the unpartitioned key table shipment_key, one narrow row per
 * shipment kept in step by a trigger; lookups by order read the shipment ids there and then one
 * partition per shipment. Key rows are kept SHIPMENT_KEY_RETENTION_DAYS (SHIPMENT_KEYS).
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

/**
 * shipment_key keeps a shipment's key row SHIPMENT_KEY_RETENTION_DAYS (default 90, at least 14 and
 * twice the deduplication horizon) after the shipment was created, then the fulfillment subgraph's
 * key retention deletes it (kit persistence/key-retention.ts). Safe because the one shipment per
 * warehouse of an order matters only while inventory.stock-confirmed can arrive for the order: once
 * when it is paid, again only as a redelivery or replay within the deduplication horizon, or after
 * a replay of its PAID within that horizon: within twice the horizon of the first. The shipment
 * itself stays; an order's shipments older than that are read from the partitions by order
 * (shipment_order_idx, shipmentIdsOfOrders).
 */
export const SHIPMENT_KEYS: KeyTable = {
  schema: 'fulfillment',
  table: 'shipment_key',
  idColumn: 'shipment_id',
  prefix: 'shp',
  retentionDays: () => envInt('SHIPMENT_KEY_RETENTION_DAYS', 90),
};

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
