import { messagingMigrations } from '@shop/kit';
import { Migration20261124000006_fulfillment } from './Migration20261124000006_fulfillment.js';
import { Migration20261124000016_cancellation } from './Migration20261124000016_cancellation.js';
import { Migration20261202150000_partitions } from './Migration20261202150000_partitions.js';
import { Migration20261202180012_shipment_order_idx } from './Migration20261202180012_shipment_order_idx.js';

/** Every migration of the fulfillment schema, oldest first (the kit's outbox/inbox tables first). */
export const migrations = [
  ...messagingMigrations,
  Migration20261124000006_fulfillment,
  Migration20261124000016_cancellation,
  Migration20261202150000_partitions,
  Migration20261202180012_shipment_order_idx,
];
