import { advisoryXactLock, badInput, decryptField, encryptField, newId, type EntityManager, type Selectable } from '@shop/kit';
import { db, type Db } from '../persistence.js';

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

export type AddressRow = Selectable<Db['address']>;

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
    await advisoryXactLock(tx, `address:${userId}`);
    const count = await db(tx)
      .selectFrom('address')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where('removed_at', 'is', null)
      .executeTakeFirst();
    if (Number(count?.n) >= MAX_ADDRESSES) throw badInput(`a user keeps at most ${MAX_ADDRESSES} addresses`);
    await db(tx)
      .insertInto('address')
      .values({
        id,
        user_id: userId,
        name_enc: encryptField(address.name, addressContext(id, userId, 'name')),
        phone_enc: encryptField(address.phone, addressContext(id, userId, 'phone')),
        line1_enc: encryptField(address.line1, addressContext(id, userId, 'line1')),
        city: address.city,
        country: address.country,
      })
      .execute();
  });
  return { id, ...address };
}

export async function listAddresses(em: EntityManager, userId: string): Promise<Address[]> {
  return (await db(em).selectFrom('address').selectAll().where('user_id', '=', userId).where('removed_at', 'is', null).orderBy('id').execute()).map(
    decodeAddress,
  );
}

/** The owner's address, or undefined (someone else's address is as good as unknown). */
export async function findOwnAddress(em: EntityManager, userId: string, id: string): Promise<Address | undefined> {
  const row = await db(em)
    .selectFrom('address')
    .selectAll()
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  return row ? decodeAddress(row) : undefined;
}
