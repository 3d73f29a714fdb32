import { badInput, dbNow, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';
import { addAddress, decodeAddress, type Address, type AddressInput } from './addresses.js';

/**
 * Removing and editing addresses. An address is never deleted: orders placed with it keep showing
 * where they ship. Removing hides it from its owner and from new previews; editing removes it and
 * adds the edited copy (a new id) in one transaction.
 */
export async function removeAddress(em: EntityManager, userId: string, id: string): Promise<void> {
  const removed = await db(em)
    .updateTable('address')
    .set({ removed_at: dbNow() })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  if (removed.numUpdatedRows !== 1n) throw badInput(`you have no address ${id}`, { field: 'id' });
}

export function updateAddress(em: EntityManager, userId: string, id: string, input: AddressInput): Promise<Address> {
  return em.transactional(async (tx) => {
    await removeAddress(tx, userId, id);
    return addAddress(tx, userId, input);
  });
}

/** Addresses by id, removed ones included (an order's shipping address). */
export async function addressesByIds(em: EntityManager, ids: readonly string[]): Promise<Map<string, Address & { userId: string }>> {
  if (ids.length === 0) return new Map();
  const rows = await db(em)
    .selectFrom('address')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, { ...decodeAddress(r), userId: r.user_id }]));
}
