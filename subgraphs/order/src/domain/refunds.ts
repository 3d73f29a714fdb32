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
  /** For a partly shipped order: the stopped parcels' quantities, which return to stock when the money is back. */
  restock_items: ReturnedLine[] | null;
}

export interface ReturnedLine {
  skuId: string;
  warehouseId: string;
  qty: number;
}

/** Statuses an order may be refunded from; it ends REFUNDED from each (fulfillment's REFUND_POLICY decides the parcels). */
const REFUNDABLE = ['PAID', 'SHIPPED', 'COMPLETED'] as const;

const LIVE = "status IN ('PENDING_APPROVAL', 'REQUESTED', 'SUCCEEDED')";

/**
 * A documented synchronous command to fulfillment, which applies its refund policy table
 * (subgraphs/fulfillment/src/domain/refund-policy.ts): every parcel still waiting is canceled (and
 * none is created later), and the answer says whether some parcel had left and which quantities
 * were stopped. Only then is the refund recorded: no parcel can leave for a refunded order.
 */
async function stopShipping(orderId: string, correlationId: string): Promise<{ shipped: boolean; returned: ReturnedLine[] }> {
  try {
    return await callInternal<{ shipped: boolean; returned: ReturnedLine[] }>(
      'order',
      'fulfillment',
      `/internal/v1/orders/${orderId}/stop-for-refund`,
      {},
      correlationId,
    );
  } catch (error) {
    // The cause (which service, its answer) is for the logs, never for the client.
    logger.warn({ err: error, orderId, correlationId }, 'fulfillment could not stop shipping for a refund');
    throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'Refunds cannot be taken right now: please try again in a minute');
  }
}

/**
 * requestRefund (seed §17 example 9), a full refund of what was paid. Policy: waiting parcels stop
 * at once; if none had left, the refund goes to the payment provider at once and all the stock
 * returns; if some had left, an admin approves it first, and only the stopped parcels' stock
 * returns. The order ends REFUNDED when the money is back, whether it was PAID, SHIPPED or
 * COMPLETED meanwhile. Asking again answers the live refund of the order.
 */
export async function requestRefund(em: EntityManager, identity: Identity, orderId: string, reason: string, correlationId: string): Promise<RefundRow> {
  const why = reason.trim();
  if (why.length < 1 || why.length > 500) throw badInput('reason must be 1..500 characters', { field: 'reason' });
  const order = await findOrder(em, orderId);
  if (!order || (order.user_id !== identity.userId && !isAdmin(identity))) throw forbidden('This order is not yours');
  const live = await sql(em).one<RefundRow>(`SELECT * FROM refund_request WHERE order_id = ? AND ${LIVE}`, [orderId]);
  if (live) return live;
  if (!(REFUNDABLE as readonly string[]).includes(order.status)) {
    throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `an order in status ${order.status} cannot be refunded`, { status: order.status });
  }
  const stop = await stopShipping(orderId, correlationId);
  const shipped = stop.shipped || order.status !== 'PAID';
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
      restock_items: shipped ? stop.returned : null,
    };
    await db.run(
      'INSERT INTO refund_request (id, order_id, user_id, amount, currency, reason, status, restock, restock_items) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        refund.id,
        orderId,
        refund.user_id,
        refund.amount,
        refund.currency,
        why,
        refund.status,
        refund.restock,
        refund.restock_items === null ? null : JSON.stringify(refund.restock_items),
      ],
    );
    await audit(tx, orderId, 'REFUND_REQUESTED', {
      refundId: refund.id,
      status: refund.status,
      reason: why,
      by: identity.userId,
      stoppedParcels: refund.restock_items,
    });
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
  await applyTransition(tx, orderId, 'REFUNDED', {
    correlationId,
    onlyFrom: REFUNDABLE,
    restock: refund.restock,
    ...(refund.restock_items?.length ? { restockItems: refund.restock_items } : {}),
    audit: { refundId, paymentId },
  });
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
