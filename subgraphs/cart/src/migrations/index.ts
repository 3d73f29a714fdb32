import { Migration20261124000002_cart } from './Migration20261124000002_cart.js';

/** Every migration of the cart schema, oldest first. */
export const migrations = [Migration20261124000002_cart];
