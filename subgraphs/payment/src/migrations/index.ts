import { messagingMigrations } from '@shop/kit';
import { Migration20261124000005_payment } from './Migration20261124000005_payment.js';

/** Every migration of the payment schema, oldest first (the kit's outbox/inbox tables first). */
export const migrations = [...messagingMigrations, Migration20261124000005_payment];
