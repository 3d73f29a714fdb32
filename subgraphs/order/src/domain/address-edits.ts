import { badInput, sql, type EntityManager } from '@shop/kit';
import { addAddress, decodeAddress, type Address, type AddressInput, type AddressRow } from './addresses.js';

/**
 * Removing and editing addresses. An address is never deleted: orders placed with it keep showing
 * where they ship. Removing hides it from its owner and from new previews; editing removes it and
 * adds the edited copy (a new id) in one transaction.
 */
export async function removeAddress(em: EntityManager, userId: string, id: string): Promise<void> {
  const removed = await sql(em).run('UPDATE address SET removed_at = now() WHERE id = ? AND user_id = ? AND removed_at IS NULL', [id, userId]);
  if (removed !== 1) throw badInput(`you have no address ${id}`, { field: 'id' });
}

export function updateAddress(em: EntityManager, userId: string, id: string, input: AddressInput): Promise<Address> {
  return em.transactional(async (tx) => {
    await removeAddress(tx, userId, id);
    return addAddress(tx, userId, input);
  });
}

/** Addresses by id, removed ones included (an order's shipping address). */
export async function addressesByIds(em: EntityManager, ids: readonly string[]): Promise<Map<string, Address & { userId: string }>> {
  const rows = await sql(em).all<AddressRow>('SELECT * FROM address WHERE id IN (?)', [[...ids]]);
  return new Map(rows.map((r) => [r.id, { ...decodeAddress(r), userId: r.user_id }]));
}
