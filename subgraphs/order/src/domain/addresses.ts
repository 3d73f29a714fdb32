import { badInput, decryptField, encryptField, newId, sql, type EntityManager } from '@shop/kit';

export interface AddressInput {
  name: string;
  phone: string;
  line1: string;
  city: string;
  country: string;
}
export interface Address extends AddressInput {
  id: string;
}

export interface AddressRow {
  id: string;
  user_id: string;
  name_enc: string;
  phone_enc: string;
  line1_enc: string;
  city: string;
  country: string;
}

export const MAX_ADDRESSES = 20;

function field(value: string, name: string, max: number, pattern?: RegExp): string {
  const v = value.trim();
  if (v.length < 1 || v.length > max) throw badInput(`${name} must be 1..${max} characters`, { field: name });
  if (pattern && !pattern.test(v)) throw badInput(`${name} "${v.slice(0, 30)}" is not valid`, { field: name });
  return v;
}

export function validateAddress(input: AddressInput): AddressInput {
  return {
    name: field(input.name, 'name', 100),
    phone: field(input.phone, 'phone', 32, /^\+?[0-9][0-9 ()-]{4,30}$/),
    line1: field(input.line1, 'line1', 300),
    city: field(input.city, 'city', 100),
    country: field(input.country, 'country', 2, /^[A-Z]{2}$/),
  };
}

/** The encrypted columns; each value is bound to its row, owner and field (see addressContext). */
export const ENCRYPTED_FIELDS = ['name', 'phone', 'line1'] as const;
export type EncryptedField = (typeof ENCRYPTED_FIELDS)[number];

/** Associated data of an address field: a ciphertext moved to another row, user or column does not decrypt. */
export const addressContext = (id: string, userId: string, field: EncryptedField): string => `ordering.address:${id}:${userId}:${field}`;

export const decodeAddress = (row: AddressRow): Address => ({
  id: row.id,
  name: decryptField(row.name_enc, addressContext(row.id, row.user_id, 'name')),
  phone: decryptField(row.phone_enc, addressContext(row.id, row.user_id, 'phone')),
  line1: decryptField(row.line1_enc, addressContext(row.id, row.user_id, 'line1')),
  city: row.city,
  country: row.country,
});

/**
 * Name, phone and street are encrypted at rest (AES-256-GCM, bound to row, owner and field, with
 * the key id: see kit crypto.ts); city and country stay queryable for shipping.
 */
export async function addAddress(em: EntityManager, userId: string, input: AddressInput): Promise<Address> {
  const address = validateAddress(input);
  const id = newId('adr');
  await em.transactional(async (tx) => {
    const db = sql(tx);
    await db.run('SELECT pg_advisory_xact_lock(hashtext(?))', [`address:${userId}`]);
    const count = await db.one<{ n: string }>('SELECT count(*) AS n FROM address WHERE user_id = ? AND removed_at IS NULL', [userId]);
    if (Number(count?.n) >= MAX_ADDRESSES) throw badInput(`a user keeps at most ${MAX_ADDRESSES} addresses`);
    await db.run('INSERT INTO address (id, user_id, name_enc, phone_enc, line1_enc, city, country) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      id,
      userId,
      encryptField(address.name, addressContext(id, userId, 'name')),
      encryptField(address.phone, addressContext(id, userId, 'phone')),
      encryptField(address.line1, addressContext(id, userId, 'line1')),
      address.city,
      address.country,
    ]);
  });
  return { id, ...address };
}

export async function listAddresses(em: EntityManager, userId: string): Promise<Address[]> {
  return (await sql(em).all<AddressRow>('SELECT * FROM address WHERE user_id = ? AND removed_at IS NULL ORDER BY id', [userId])).map(decodeAddress);
}

/** The owner's address, or undefined (someone else's address is as good as unknown). */
export async function findOwnAddress(em: EntityManager, userId: string, id: string): Promise<Address | undefined> {
  const row = await sql(em).one<AddressRow>('SELECT * FROM address WHERE id = ? AND user_id = ? AND removed_at IS NULL', [id, userId]);
  return row ? decodeAddress(row) : undefined;
}
