import {
  DomainError,
  ErrorCode,
  applyTransition,
  badInput,
  callInternal,
  emit,
  forbidden,
  isAdmin,
  lockRow,
  logger,
  newId,
  type EntityManager,
  type Identity,
} from '@shop/kit';
import { db } from '../persistence.js';
import { recordOrderEvent } from './order-events.js';
import { moveOrder } from './order-state.js';
import { findOrder } from './orders.js';
import { refundRequested, storedRefund, type RefundRow, type RefundStatus } from './refund-state.js';

export type { RefundRow };

const LIVE = ['PENDING_APPROVAL', 'REQUESTED', 'SUCCEEDED'] as const;

const liveRefund = (em: EntityManager, orderId: string): Promise<RefundRow | undefined> =>
  db(em).selectFrom('refund_request').selectAll().where('order_id', '=', orderId).where('status', 'in', LIVE).executeTakeFirst();

/** Refund requests in one status, oldest first (the admin's queue). */
export const refundsInStatus = (em: EntityManager, status: RefundStatus, limit: number): Promise<RefundRow[]> =>
  db(em).selectFrom('refund_request').selectAll().where('status', '=', status).orderBy('created_at').orderBy('id').limit(limit).execute();

/** The refunds of some orders, newest first. */
export const refundsOfOrders = (em: EntityManager, orderIds: readonly string[]): Promise<RefundRow[]> =>
  db(em)
    .selectFrom('refund_request')
    .selectAll()
    .where('order_id', 'in', [...orderIds])
    .orderBy('created_at', 'desc')
    .execute();

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
  const live = await liveRefund(em, orderId);
  if (live) return live;
  if (order.status !== 'PAID' && order.status !== 'SHIPPED') {
    throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `an order in status ${order.status} cannot be refunded`, { status: order.status });
  }
  const shipped = order.status === 'SHIPPED' || (await stopShipping(orderId, correlationId));
  return em.transactional(async (tx) => {
    await db(tx).selectFrom('orders').select('id').where('id', '=', orderId).forUpdate().execute();
    const again = await liveRefund(tx, orderId);
    if (again) return again;
    const refund = await db(tx)
      .insertInto('refund_request')
      .values({
        id: newId('rfd'),
        order_id: orderId,
        user_id: order.user_id,
        amount: order.payable,
        currency: order.currency,
        reason: why,
        status: shipped ? 'PENDING_APPROVAL' : 'REQUESTED',
        restock: !shipped,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordOrderEvent(tx, {
      orderId,
      type: 'REFUND_REQUESTED',
      payload: { refundId: refund.id, status: refund.status, reason: why, by: identity.userId },
    });
    if (refund.status === 'REQUESTED') await emit(tx, refundRequested(refund, correlationId));
    return refund;
  });
}

/** An admin approves a refund of a shipped order; it then goes to the payment provider. */
export async function approveRefund(em: EntityManager, identity: Identity, refundId: string, correlationId: string): Promise<RefundRow> {
  return em.transactional(async (tx) => {
    const refund = await lockRow(tx, storedRefund, refundId);
    if (!refund) throw badInput(`refund ${refundId} does not exist`, { field: 'refundId' });
    if (refund.status === 'REQUESTED' || refund.status === 'SUCCEEDED') return refund;
    const { row } = await applyTransition(tx, storedRefund, {
      id: refundId,
      to: 'REQUESTED',
      locked: refund,
      set: { decided_by: identity.userId },
      facts: { correlationId, audit: { by: identity.userId } },
    });
    return row;
  });
}

/** The provider refunded: the refund succeeds and the order becomes REFUNDED (stock per the refund's rule). */
export async function refundSucceeded(tx: EntityManager, refundId: string | null, orderId: string, paymentId: string, correlationId: string): Promise<void> {
  if (refundId === null) {
    // A compensation for a payment the order could not take (e.g. it arrived after a cancel).
    await recordOrderEvent(tx, { orderId, type: 'PAYMENT_REFUNDED', payload: { paymentId, compensation: true } });
    return;
  }
  const refund = await lockRow(tx, storedRefund, refundId);
  if (!refund || refund.status === 'SUCCEEDED') return;
  await applyTransition(tx, storedRefund, { id: refundId, to: 'SUCCEEDED', locked: refund, facts: { correlationId, audit: { paymentId } } });
  await moveOrder(tx, orderId, 'REFUNDED', { correlationId, onlyFrom: ['PAID', 'SHIPPED'], restock: refund.restock, audit: { refundId, paymentId } });
}

export async function refundFailed(tx: EntityManager, refundId: string | null, orderId: string, error: string, correlationId: string): Promise<void> {
  const refund = refundId ? await lockRow(tx, storedRefund, refundId) : undefined;
  const moved = refund
    ? await applyTransition(tx, storedRefund, {
        id: refund.id,
        to: 'FAILED',
        locked: refund,
        onlyFrom: ['REQUESTED'],
        set: { error },
        facts: { correlationId, audit: { error } },
      })
    : undefined;
  // A failure of no refund of ours (a compensation), or of one already decided, is still audited.
  if (!moved?.changed) await recordOrderEvent(tx, { orderId, type: 'REFUND_FAILED', payload: { refundId, error } });
}
