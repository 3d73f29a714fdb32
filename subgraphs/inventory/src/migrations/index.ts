import { messagingMigrations } from '@shop/kit';
import { Migration20261124000004_inventory } from './Migration20261124000004_inventory.js';
import { Migration20261202000014_returns } from './Migration20261202000014_returns.js';

/** Every migration of the inventory schema, oldest first. */
export const migrations = [...messagingMigrations, Migration20261124000004_inventory, Migration20261202000014_returns];
