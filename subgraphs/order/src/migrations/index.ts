import { messagingMigrations } from '@shop/kit';
import { Migration20261124000010_ordering } from './Migration20261124000010_ordering.js';
import { Migration20261124000020_risk } from './Migration20261124000020_risk.js';
import { Migration20261124000030_refunds } from './Migration20261124000030_refunds.js';
import { Migration20261202000040_address_aad } from './Migration20261202000040_address_aad.js';
import { Migration20261202000040_refund_policy } from './Migration20261202000040_refund_policy.js';
import { Migration20261202000050_risk_review } from './Migration20261202000050_risk_review.js';
import { Migration20261202000060_address_removal } from './Migration20261202000060_address_removal.js';
import { Migration20261202072143_refund_version } from './Migration20261202072143_refund_version.js';
import { Migration20261202105014_drop_preview } from './Migration20261202105014_drop_preview.js';
import { Migration20261202110000_partitions } from './Migration20261202110000_partitions.js';
import { Migration20261202142158_price_copy } from './Migration20261202142158_price_copy.js';

/** Every migration of the ordering schema, oldest first. */
export const migrations = [
  ...messagingMigrations,
  Migration20261124000010_ordering,
  Migration20261124000020_risk,
  Migration20261124000030_refunds,
  Migration20261202000040_address_aad,
  Migration20261202000040_refund_policy,
  Migration20261202000050_risk_review,
  Migration20261202000060_address_removal,
  Migration20261202072143_refund_version,
  Migration20261202105014_drop_preview,
  Migration20261202110000_partitions,
  Migration20261202142158_price_copy,
];
