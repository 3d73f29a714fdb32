import { currentKeyId, decryptField, encryptField, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';
import { addressContext, ENCRYPTED_FIELDS } from './addresses.js';

/**
 * Re-encrypts up to `limit` addresses that are not under the current key (made by an old key, or in
 * the v1 format without associated data) and answers how many it rewrote. Rows are claimed with
 * FOR UPDATE SKIP LOCKED, so it runs beside live traffic and beside another copy of itself; each row
 * is rewritten only if it still holds what was read. Run it inside a transaction (`tx`: the
 * transaction's EntityManager, or a migration's getEntityManager()).
 */
export async function reencryptAddresses(tx: EntityManager, limit: number): Promise<number> {
  const prefix = `v2:${currentKeyId()}:%`;
  const rows = await db(tx)
    .selectFrom('address')
    .select(['id', 'user_id', 'name_enc', 'phone_enc', 'line1_enc'])
    .where((eb) => eb.or([eb('name_enc', 'not like', prefix), eb('phone_enc', 'not like', prefix), eb('line1_enc', 'not like', prefix)]))
    .orderBy('id')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
  for (const row of rows) {
    const fresh = Object.fromEntries(
      ENCRYPTED_FIELDS.map((field) => {
        const context = addressContext(row.id, row.user_id, field);
        let plain: string;
        try {
          plain = decryptField(row[`${field}_enc`], context);
        } catch (error) {
          // Altered, moved from another row, or under a key no longer configured: an operator must look.
          throw new Error(`address ${row.id} (${field}) does not decrypt: ${error instanceof Error ? error.message : String(error)}`);
        }
        return [field, encryptField(plain, context)];
      }),
    ) as Record<(typeof ENCRYPTED_FIELDS)[number], string>;
    await db(tx).updateTable('address').set({ name_enc: fresh.name, phone_enc: fresh.phone, line1_enc: fresh.line1 }).where('id', '=', row.id).execute();
  }
  return rows.length;
}
