import { messagingMigrations } from '@shop/kit';
import { Migration20261124000005_payment } from './Migration20261124000005_payment.js';
import { Migration20261202000015_order_closed } from './Migration20261202000015_order_closed.js';
import { Migration20261202072147_refund_version } from './Migration20261202072147_refund_version.js';
import { Migration20261202150000_partitions } from './Migration20261202150000_partitions.js';

/** Every migration of the payment schema, oldest first (the kit's outbox/inbox tables first). */
export const migrations = [
  ...messagingMigrations,
  Migration20261124000005_payment,
  Migration20261202000015_order_closed,
  Migration20261202072147_refund_version,
  Migration20261202150000_partitions,
];
