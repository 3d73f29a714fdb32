import { Migration } from '@shop/kit';
import { reencryptAddresses } from '../domain/address-keys.js';

/**
 * Rewrites the addresses stored before key ids and associated data (format v1) into v2, bound to
 * their row, owner and field, under the current key. In the migration's transaction, batch by batch.
 */
export class Migration20261202000040_address_aad extends Migration {
  override async up(): Promise<void> {
    const db = {
      all: async <T>(query: string, params: readonly unknown[] = []) => (await this.execute(query, [...params])) as T[],
      run: async (query: string, params: readonly unknown[] = []) => (await this.execute(query, [...params])).length,
    };
    while ((await reencryptAddresses(db, 500)) > 0) {
      // until every row is under the current key
    }
  }
}
