import { emit, groupBy, newId, sql, type EntityManager } from '@shop/kit';
import { assertReason, assertTransition, type CancelReason, type OrderStatus } from './order-state.js';

export interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  cancel_reason: CancelReason | null;
  currency: string;
  total: number;
  discount: number;
  shipping_fee: number;
  payable: number;
  coupon_code: string | null;
  address_id: string | null;
  preview_id: string;
  flash_sale: boolean;
  /** timestamps arrive from raw SQL as ISO strings */
  expire_at: Date | string;
  version: number;
  created_at: Date | string;
}

export interface OrderItemRow {
  order_id: string;
  sku_id: string;
  qty: number;
  unit_price: number;
}

export const ORDER_COLUMNS =
  'id, user_id, status, cancel_reason, currency, total, discount, shipping_fee, payable, coupon_code, address_id, preview_id, flash_sale, expire_at, version, created_at';

export const findOrder = (em: EntityManager, id: string): Promise<OrderRow | undefined> =>
  sql(em).one<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ?`, [id]);

export async function ordersByIds(em: EntityManager, ids: readonly string[]): Promise<Map<string, OrderRow>> {
  const rows = await sql(em).all<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id IN (?)`, [[...ids]]);
  return new Map(rows.map((r) => [r.id, r]));
}

export async function itemsByOrders(em: EntityManager, ids: readonly string[]): Promise<Map<string, OrderItemRow[]>> {
  const rows = await sql(em).all<OrderItemRow>('SELECT order_id, sku_id, qty, unit_price FROM order_item WHERE order_id IN (?) ORDER BY sku_id', [[...ids]]);
  return groupBy(rows, (r) => r.order_id);
}

export async function listOrders(
  em: EntityManager,
  userId: string,
  limit: number,
  after: string | undefined,
  status: OrderStatus | undefined,
): Promise<OrderRow[]> {
  const where = ['user_id = ?'];
  const params: unknown[] = [userId];
  if (after) {
    where.push('id < ?');
    params.push(after);
  }
  if (status) {
    where.push('status = ?');
    params.push(status);
  }
  params.push(limit);
  return sql(em).all<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`, params);
}

export interface TransitionOptions {
  reason?: CancelReason | null;
  correlationId: string;
  /** Extra facts for the audit row (payment id, refund id, ...). */
  audit?: Record<string, unknown>;
  /** For REFUNDED: whether sold stock goes back to available. */
  restock?: boolean;
  /** For REFUNDED of a partly shipped order: the stopped quantities that go back to available. */
  restockItems?: { skuId: string; warehouseId: string; qty: number }[];
  /** Only move when the order is in one of these statuses; otherwise answer without a change. */
  onlyFrom?: readonly OrderStatus[];
}

export type TransitionResult = { changed: true; order: OrderRow } | { changed: false; order: OrderRow };

/**
 * The one function that changes an order's status: lock the row, check the transition table,
 * bump the version, write the audit row and the outbox event, all in the caller's transaction.
 * With `onlyFrom`, an order in another status is left alone (idempotent event handling);
 * without it, an illegal move is ORDER_STATE_INVALID.
 */
export async function applyTransition(tx: EntityManager, orderId: string, to: OrderStatus, options: TransitionOptions): Promise<TransitionResult> {
  const db = sql(tx);
  const order = await db.one<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ? FOR UPDATE`, [orderId]);
  if (!order) throw new Error(`order ${orderId} does not exist`);
  if (options.onlyFrom && !options.onlyFrom.includes(order.status)) return { changed: false, order };
  assertTransition(order.status, to);
  const reason = options.reason ?? null;
  assertReason(to, reason);
  const updated = await db.run('UPDATE orders SET status = ?, cancel_reason = ?, version = version + 1, updated_at = now() WHERE id = ? AND version = ?', [
    to,
    reason,
    orderId,
    order.version,
  ]);
  if (updated !== 1) throw new Error(`order ${orderId} changed under a row lock`);
  const version = order.version + 1;
  await db.run('INSERT INTO order_event (id, order_id, event_type, from_status, to_status, version, payload) VALUES (?, ?, ?, ?, ?, ?, ?)', [
    newId('evt'),
    orderId,
    `ORDER_${to}`,
    order.status,
    to,
    version,
    JSON.stringify({ reason, ...options.audit }),
  ]);
  await emit(tx, {
    type: 'order.status-changed',
    aggregateId: orderId,
    correlationId: options.correlationId,
    payload: {
      orderId,
      userId: order.user_id,
      from: order.status,
      to,
      reason,
      version,
      ...(options.restock === undefined ? {} : { restock: options.restock }),
      ...(options.restockItems === undefined ? {} : { restockItems: options.restockItems }),
    },
  });
  return { changed: true, order: { ...order, status: to, cancel_reason: reason, version } };
}
