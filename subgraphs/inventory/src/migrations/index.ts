import { messagingMigrations } from '@shop/kit';
import { Migration20261124000004_inventory } from './Migration20261124000004_inventory.js';
import { Migration20261202000014_returns } from './Migration20261202000014_returns.js';
import { Migration20261202065823_reservation_audit } from './Migration20261202065823_reservation_audit.js';
import { Migration20261202121545_stock_buckets } from './Migration20261202121545_stock_buckets.js';

/** Every migration of the inventory schema, oldest first. */
export const migrations = [
  ...messagingMigrations,
  Migration20261124000004_inventory,
  Migration20261202000014_returns,
  Migration20261202065823_reservation_audit,
  Migration20261202121545_stock_buckets,
];
