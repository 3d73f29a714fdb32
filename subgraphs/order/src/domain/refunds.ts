import {
  DomainError,
  ErrorCode,
  applyTransition,
  badInput,
  callInternal,
  emit,
  forbidden,
  json,
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
import { findOrder, liveThenArchived } from './orders.js';
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
  liveThenArchived(orderIds, (q, some) => q.selectFrom('refund_request').selectAll().where('order_id', 'in', some).orderBy('created_at', 'desc').execute(), em);

export interface ReturnedLine {
  skuId: string;
  warehouseId: string;
  qty: number;
}

/** Statuses an order may be refunded from; it ends REFUNDED from each (fulfillment's REFUND_POLICY decides the parcels). */
const REFUNDABLE = ['PAID', 'SHIPPED', 'COMPLETED'] as const;

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
  const live = await liveRefund(em, orderId);
  if (live) return live;
  if (!(REFUNDABLE as readonly string[]).includes(order.status)) {
    throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `an order in status ${order.status} cannot be refunded`, { status: order.status });
  }
  const stop = await stopShipping(orderId, correlationId);
  const shipped = stop.shipped || order.status !== 'PAID';
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
        restock_items: shipped ? json(stop.returned) : null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordOrderEvent(tx, {
      orderId,
      type: 'REFUND_REQUESTED',
      payload: { refundId: refund.id, status: refund.status, reason: why, by: identity.userId, stoppedParcels: refund.restock_items },
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
  await moveOrder(tx, orderId, 'REFUNDED', {
    correlationId,
    onlyFrom: REFUNDABLE,
    restock: refund.restock,
    ...(refund.restock_items?.length ? { restockItems: refund.restock_items } : {}),
    audit: { refundId, paymentId },
  });
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
