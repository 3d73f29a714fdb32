import { Migration20261124000001_catalog } from './Migration20261124000001_catalog.js';

/** Every migration of the catalog schema, oldest first. */
export const migrations = [Migration20261124000001_catalog];
