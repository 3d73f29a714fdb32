import { Migration, type EntityManager } from '@shop/kit';

/**
 * Rewrites the addresses stored before key ids and associated data (format v1) into v2, bound to
 * their row, owner and field, under the current key. In the migration's transaction, batch by batch.
 */
export class Migration20261202000040_address_aad extends Migration {
  override async up(): Promise<void> {
    // Imported when it runs: the domain imports persistence.ts, which lists this migration.
    const { reencryptAddresses } = await import('../domain/address-keys.js');
    // The migration's EntityManager is bound to its transaction (and its schema's search_path).
    const tx = this.getEntityManager() as EntityManager;
    while ((await reencryptAddresses(tx, 500)) > 0) {
      // until every row is under the current key
    }
  }
}
