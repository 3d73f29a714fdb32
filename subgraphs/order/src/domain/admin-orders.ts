import { groupBy, type EntityManager, type Selectable } from '@shop/kit';
import { db, type Db } from '../persistence.js';
import type { OrderRow, OrderStatus } from './order-state.js';
import { liveThenArchived } from './orders.js';

/** What operators filter the order list by. */
export interface OrderSearch {
  status?: OrderStatus | undefined;
  /**
   * An order id, the short order number customers read out (the id's last 8 characters), or a
   * user id: matched exactly, except the short number, which matches the end of an id.
   */
  text?: string | undefined;
  placedFrom?: Date | undefined;
  placedTo?: Date | undefined;
}

/** Every order matching the search, newest first, paged by id. */
export function searchOrders(em: EntityManager, search: OrderSearch, limit: number, after: string | undefined): Promise<OrderRow[]> {
  const text = search.text?.trim();
  return db(em)
    .selectFrom('orders')
    .selectAll()
    .$if(!!after, (q) => q.where('id', '<', after!))
    .$if(search.status !== undefined, (q) => q.where('status', '=', search.status!))
    .$if(!!text, (q) =>
      q.where((eb) =>
        /^[0-9a-fA-F]{8}$/.test(text!)
          ? eb.or([eb('id', 'like', `%${text!.toLowerCase()}`), eb('user_id', '=', text!)])
          : eb.or([eb('id', '=', text!), eb('user_id', '=', text!)]),
      ),
    )
    .$if(search.placedFrom !== undefined, (q) => q.where('created_at', '>=', search.placedFrom!.toISOString()))
    .$if(search.placedTo !== undefined, (q) => q.where('created_at', '<', search.placedTo!.toISOString()))
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export type OrderEventRow = Selectable<Db['order_event']>;

/** The audit trail (order_event) of each order, oldest first. */
export async function eventsByOrders(em: EntityManager, ids: readonly string[]): Promise<Map<string, OrderEventRow[]>> {
  const rows = await liveThenArchived(
    ids,
    (q, some) => q.selectFrom('order_event').selectAll().where('order_id', 'in', some).orderBy('created_at').orderBy('version').execute(),
    em,
  );
  return groupBy(rows, (r) => r.order_id);
}
