import { DomainError, ErrorCode, badInput, callInternal, emit, forbidden, isAdmin, logger, newId, sql, type EntityManager, type Identity } from '@shop/kit';
import { applyTransition, findOrder } from './orders.js';

export interface RefundRow {
  id: string;
  order_id: string;
  user_id: string;
  amount: number;
  currency: string;
  reason: string;
  status: 'PENDING_APPROVAL' | 'REQUESTED' | 'SUCCEEDED' | 'FAILED' | 'REJECTED';
  restock: boolean;
}

const LIVE = "status IN ('PENDING_APPROVAL', 'REQUESTED', 'SUCCEEDED')";

/**
 * A documented synchronous command to fulfillment: if nothing of the order has shipped, cancel its
 * shipments (and any created later) and answer shipped=false; otherwise change nothing. Only then
 * may the refund return the stock to available: no parcel can leave for a refunded order.
 */
async function stopShipping(orderId: string, correlationId: string): Promise<boolean> {
  try {
    const answer = await callInternal<{ shipped: boolean }>('order', 'fulfillment', `/internal/v1/orders/${orderId}/cancel-unshipped`, {}, correlationId);
    return answer.shipped;
  } catch (error) {
    // The cause (which service, its answer) is for the logs, never for the client.
    logger.warn({ err: error, orderId, correlationId }, 'fulfillment could not stop shipping for a refund');
    throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'Refunds cannot be taken right now: please try again in a minute');
  }
}

/**
 * requestRefund (seed §17 example 9). Policy: before anything shipped, a full refund goes to the
 * payment provider at once and the stock returns to available; once something shipped, an admin
 * approves it first and the stock stays sold. Asking again answers the live refund of the order.
 */
export async function requestRefund(em: EntityManager, identity: Identity, orderId: string, reason: string, correlationId: string): Promise<RefundRow> {
  const why = reason.trim();
  if (why.length < 1 || why.length > 500) throw badInput('reason must be 1..500 characters', { field: 'reason' });
  const order = await findOrder(em, orderId);
  if (!order || (order.user_id !== identity.userId && !isAdmin(identity))) throw forbidden('This order is not yours');
  const live = await sql(em).one<RefundRow>(`SELECT * FROM refund_request WHERE order_id = ? AND ${LIVE}`, [orderId]);
  if (live) return live;
  if (order.status !== 'PAID' && order.status !== 'SHIPPED') {
    throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `an order in status ${order.status} cannot be refunded`, { status: order.status });
  }
  const shipped = order.status === 'SHIPPED' || (await stopShipping(orderId, correlationId));
  return em.transactional(async (tx) => {
    const db = sql(tx);
    await db.one('SELECT id FROM orders WHERE id = ? FOR UPDATE', [orderId]);
    const again = await db.one<RefundRow>(`SELECT * FROM refund_request WHERE order_id = ? AND ${LIVE}`, [orderId]);
    if (again) return again;
    const refund: RefundRow = {
      id: newId('rfd'),
      order_id: orderId,
      user_id: order.user_id,
      amount: order.payable,
      currency: order.currency,
      reason: why,
      status: shipped ? 'PENDING_APPROVAL' : 'REQUESTED',
      restock: !shipped,
    };
    await db.run('INSERT INTO refund_request (id, order_id, user_id, amount, currency, reason, status, restock) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      refund.id,
      orderId,
      refund.user_id,
      refund.amount,
      refund.currency,
      why,
      refund.status,
      refund.restock,
    ]);
    await audit(tx, orderId, 'REFUND_REQUESTED', { refundId: refund.id, status: refund.status, reason: why, by: identity.userId });
    if (refund.status === 'REQUESTED') await sendToPayment(tx, refund, correlationId);
    return refund;
  });
}

/** An admin approves a refund of a shipped order; it then goes to the payment provider. */
export async function approveRefund(em: EntityManager, identity: Identity, refundId: string, correlationId: string): Promise<RefundRow> {
  return em.transactional(async (tx) => {
    const db = sql(tx);
    const refund = await db.one<RefundRow>('SELECT * FROM refund_request WHERE id = ? FOR UPDATE', [refundId]);
    if (!refund) throw badInput(`refund ${refundId} does not exist`, { field: 'refundId' });
    if (refund.status === 'REQUESTED' || refund.status === 'SUCCEEDED') return refund;
    if (refund.status !== 'PENDING_APPROVAL') throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `a refund in status ${refund.status} cannot be approved`);
    await db.run("UPDATE refund_request SET status = 'REQUESTED', decided_by = ?, updated_at = now() WHERE id = ?", [identity.userId, refundId]);
    const approved = { ...refund, status: 'REQUESTED' as const };
    await audit(tx, refund.order_id, 'REFUND_APPROVED', { refundId, by: identity.userId });
    await sendToPayment(tx, approved, correlationId);
    return approved;
  });
}

async function sendToPayment(tx: EntityManager, refund: RefundRow, correlationId: string): Promise<void> {
  await emit(tx, {
    type: 'order.refund-requested',
    aggregateId: refund.order_id,
    correlationId,
    payload: {
      refundId: refund.id,
      orderId: refund.order_id,
      amount: { amount: refund.amount, currency: refund.currency },
      reason: refund.reason,
      restock: refund.restock,
    },
  });
}

/** The provider refunded: the refund succeeds and the order becomes REFUNDED (stock per the refund's rule). */
export async function refundSucceeded(tx: EntityManager, refundId: string | null, orderId: string, paymentId: string, correlationId: string): Promise<void> {
  if (refundId === null) {
    // A compensation for a payment the order could not take (e.g. it arrived after a cancel).
    await audit(tx, orderId, 'PAYMENT_REFUNDED', { paymentId, compensation: true });
    return;
  }
  const db = sql(tx);
  const refund = await db.one<RefundRow>('SELECT * FROM refund_request WHERE id = ? FOR UPDATE', [refundId]);
  if (!refund || refund.status === 'SUCCEEDED') return;
  await db.run("UPDATE refund_request SET status = 'SUCCEEDED', updated_at = now() WHERE id = ?", [refundId]);
  await applyTransition(tx, orderId, 'REFUNDED', { correlationId, onlyFrom: ['PAID', 'SHIPPED'], restock: refund.restock, audit: { refundId, paymentId } });
}

export async function refundFailed(tx: EntityManager, refundId: string | null, orderId: string, error: string): Promise<void> {
  if (refundId)
    await sql(tx).run("UPDATE refund_request SET status = 'FAILED', error = ?, updated_at = now() WHERE id = ? AND status = 'REQUESTED'", [error, refundId]);
  await audit(tx, orderId, 'REFUND_FAILED', { refundId, error });
}

async function audit(tx: EntityManager, orderId: string, type: string, payload: Record<string, unknown>): Promise<void> {
  await sql(tx).run(
    'INSERT INTO order_event (id, order_id, event_type, from_status, to_status, version, payload) SELECT ?, id, ?, status, status, version, ? FROM orders WHERE id = ?',
    [newId('evt'), type, JSON.stringify(payload), orderId],
  );
}
