import { currentKeyId, decryptField, encryptField } from '@shop/kit';
import { addressContext, ENCRYPTED_FIELDS } from './addresses.js';

/** Raw SQL with `?` placeholders: the kit's sql(em), or a migration's execute. */
export interface Sql {
  all<T>(query: string, params?: readonly unknown[]): Promise<T[]>;
  run(query: string, params?: readonly unknown[]): Promise<number>;
}

interface EncryptedRow {
  id: string;
  user_id: string;
  name_enc: string;
  phone_enc: string;
  line1_enc: string;
}

/**
 * Re-encrypts up to `limit` addresses that are not under the current key (made by an old key, or in
 * the v1 format without associated data) and answers how many it rewrote. Rows are claimed with
 * FOR UPDATE SKIP LOCKED, so it runs beside live traffic and beside another copy of itself; each row
 * is rewritten only if it still holds what was read. Run it inside a transaction.
 */
export async function reencryptAddresses(db: Sql, limit: number): Promise<number> {
  const prefix = `v2:${currentKeyId()}:%`;
  const rows = await db.all<EncryptedRow>(
    `SELECT id, user_id, name_enc, phone_enc, line1_enc FROM address
      WHERE name_enc NOT LIKE ? OR phone_enc NOT LIKE ? OR line1_enc NOT LIKE ?
      ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
    [prefix, prefix, prefix, limit],
  );
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
    await db.run('UPDATE address SET name_enc = ?, phone_enc = ?, line1_enc = ? WHERE id = ?', [fresh.name, fresh.phone, fresh.line1, row.id]);
  }
  return rows.length;
}
