import { groupBy, sql, type EntityManager } from '@shop/kit';
import { ORDER_COLUMNS, type OrderRow } from './orders.js';
import type { OrderStatus } from './order-state.js';

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
export async function searchOrders(em: EntityManager, search: OrderSearch, limit: number, after: string | undefined): Promise<OrderRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (after) {
    where.push('id < ?');
    params.push(after);
  }
  if (search.status) {
    where.push('status = ?');
    params.push(search.status);
  }
  const text = search.text?.trim();
  if (text) {
    if (/^[0-9a-fA-F]{8}$/.test(text)) {
      where.push('(id LIKE ? OR user_id = ?)');
      params.push(`%${text.toLowerCase()}`, text);
    } else {
      where.push('(id = ? OR user_id = ?)');
      params.push(text, text);
    }
  }
  if (search.placedFrom) {
    where.push('created_at >= ?');
    params.push(search.placedFrom);
  }
  if (search.placedTo) {
    where.push('created_at < ?');
    params.push(search.placedTo);
  }
  params.push(limit);
  return sql(em).all<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`, params);
}

export interface OrderEventRow {
  id: string;
  order_id: string;
  event_type: string;
  from_status: string | null;
  to_status: string;
  version: number;
  payload: Record<string, unknown>;
  created_at: Date | string;
}

/** The audit trail (order_event) of each order, oldest first. */
export async function eventsByOrders(em: EntityManager, ids: readonly string[]): Promise<Map<string, OrderEventRow[]>> {
  const rows = await sql(em).all<OrderEventRow>('SELECT * FROM order_event WHERE order_id IN (?) ORDER BY created_at, version', [[...ids]]);
  return groupBy(rows, (r) => r.order_id);
}
