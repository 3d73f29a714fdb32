import { groupBy, type EntityManager, type Selectable } from '@shop/kit';
import { db, type Db } from '../persistence.js';
import type { OrderRow, OrderStatus } from './order-state.js';

export type { OrderRow };
export type OrderItemRow = Selectable<Db['order_item']>;

export const findOrder = (em: EntityManager, id: string): Promise<OrderRow | undefined> =>
  db(em).selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();

export async function ordersByIds(em: EntityManager, ids: readonly string[]): Promise<Map<string, OrderRow>> {
  const rows = await db(em)
    .selectFrom('orders')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}

export async function itemsByOrders(em: EntityManager, ids: readonly string[]): Promise<Map<string, OrderItemRow[]>> {
  const rows = await db(em)
    .selectFrom('order_item')
    .selectAll()
    .where('order_id', 'in', [...ids])
    .orderBy('sku_id')
    .execute();
  return groupBy(rows, (r) => r.order_id);
}

export function listOrders(em: EntityManager, userId: string, limit: number, after: string | undefined, status: OrderStatus | undefined): Promise<OrderRow[]> {
  return db(em)
    .selectFrom('orders')
    .selectAll()
    .where('user_id', '=', userId)
    .$if(after !== undefined, (q) => q.where('id', '<', after!))
    .$if(status !== undefined, (q) => q.where('status', '=', status!))
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
