import { messagingMigrations } from '@shop/kit';
import { Migration20261124000001_catalog } from './Migration20261124000001_catalog.js';
import { Migration20261202000002_product_media } from './Migration20261202000002_product_media.js';
import { Migration20261202112000_flash_sale_starts_at } from './Migration20261202112000_flash_sale_starts_at.js';
import { Migration20261202140000_sku_revision } from './Migration20261202140000_sku_revision.js';

/** Every migration of the catalog schema, oldest first. */
export const migrations = [
  Migration20261124000001_catalog,
  Migration20261202000002_product_media,
  Migration20261202112000_flash_sale_starts_at,
  // The outbox came with catalog events (catalog.sku-changed, catalog.product-changed): after the catalog's own tables.
  ...messagingMigrations,
  Migration20261202140000_sku_revision,
];
