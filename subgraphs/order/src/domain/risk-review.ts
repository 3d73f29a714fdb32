import { DomainError, ErrorCode, badInput, newId, sql, type EntityManager, type Identity } from '@shop/kit';
import { applyTransition, findOrder, type OrderRow } from './orders.js';
import { paymentTtlSeconds } from './quote.js';

/**
 * Risk review (seed §13). An order that a REVIEW rule hit is placed with risk_review = true; once
 * its stock is held it waits in REVIEW (no payment, no payment deadline) instead of
 * PENDING_PAYMENT, until an admin resolves it: approve → PENDING_PAYMENT with a fresh payment
 * window; reject → CANCELED (RISK_REJECTED), which releases its stock.
 */

/** Where an order goes once its stock is held: REVIEW when risk control flagged it, else PENDING_PAYMENT. */
export async function stockHeld(tx: EntityManager, orderId: string, correlationId: string, audit: Record<string, unknown>) {
  const flagged = await sql(tx).one<{ risk_review: boolean }>('SELECT risk_review FROM orders WHERE id = ?', [orderId]);
  return applyTransition(tx, orderId, flagged?.risk_review ? 'REVIEW' : 'PENDING_PAYMENT', { correlationId, onlyFrom: ['CREATED'], audit });
}

/** Orders waiting in REVIEW, oldest first (ids are time-ordered), after the cursor's id. */
export async function reviewQueue(em: EntityManager, limit: number, after: string | undefined): Promise<OrderRow[]> {
  const ids = await sql(em).all<{ id: string }>(`SELECT id FROM orders WHERE status = 'REVIEW' ${after ? 'AND id > ?' : ''} ORDER BY id LIMIT ?`, [
    ...(after ? [after] : []),
    limit,
  ]);
  const rows: OrderRow[] = [];
  for (const { id } of ids) {
    const row = await findOrder(em, id);
    if (row) rows.push(row);
  }
  return rows;
}

/** An admin's decision on an order in REVIEW; resolving it again the same way answers the order as it is. */
export async function resolveRiskReview(
  em: EntityManager,
  admin: Identity,
  orderId: string,
  approve: boolean,
  note: string | null,
  correlationId: string,
): Promise<OrderRow> {
  const why = note?.trim() ?? null;
  if (why !== null && why.length > 500) throw badInput('note must be at most 500 characters', { field: 'note' });
  return em.transactional(async (tx) => {
    const order = await findOrder(tx, orderId);
    if (!order) throw badInput(`order ${orderId} does not exist`, { field: 'orderId' });
    if (order.status !== 'REVIEW') {
      if ((await reviewExit(tx, orderId)) === (approve ? 'PENDING_PAYMENT' : 'CANCELED')) return order; // the same decision again
      throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `order ${orderId} is ${order.status}, not waiting for a risk review`, { status: order.status });
    }
    const audit = { review: approve ? 'APPROVED' : 'REJECTED', by: admin.userId, note: why };
    if (!approve) {
      return (await applyTransition(tx, orderId, 'CANCELED', { reason: 'RISK_REJECTED', correlationId, onlyFrom: ['REVIEW'], audit })).order;
    }
    const moved = await applyTransition(tx, orderId, 'PENDING_PAYMENT', { correlationId, onlyFrom: ['REVIEW'], audit });
    // The payment window starts when the buyer may pay, not when the order was placed.
    const [fresh] = await sql(tx).all<{ expire_at: string }>(
      'UPDATE orders SET expire_at = now() + make_interval(secs => ?) WHERE id = ? RETURNING expire_at',
      [paymentTtlSeconds(), orderId],
    );
    await sql(tx).run(
      "INSERT INTO order_event (id, order_id, event_type, from_status, to_status, version, payload) VALUES (?, ?, 'PAYMENT_WINDOW_RESET', 'PENDING_PAYMENT', 'PENDING_PAYMENT', ?, ?)",
      [newId('evt'), orderId, moved.order.version, JSON.stringify({ expireAt: fresh?.expire_at })],
    );
    return { ...moved.order, expire_at: fresh?.expire_at ?? moved.order.expire_at };
  });
}

/** Where the order went when it left REVIEW, if it did. */
const reviewExit = async (tx: EntityManager, orderId: string): Promise<string | undefined> =>
  (
    await sql(tx).one<{ to_status: string }>(
      "SELECT to_status FROM order_event WHERE order_id = ? AND from_status = 'REVIEW' AND to_status <> 'REVIEW' ORDER BY version LIMIT 1",
      [orderId],
    )
  )?.to_status;
