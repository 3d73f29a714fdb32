import { applyTransition, emit, logger, type EntityManager } from '@shop/kit';
import type { EventEnvelope } from '@shop/schema';
import { db } from '../persistence.js';
import { sagaCompensations } from './metrics.js';
import { paymentIdsOfOrders } from './pay-order.js';
import { audit, lockPayment, transitionPayment, type PaymentRow } from './payment-state.js';
import { PspRejectedError, requestRefund } from './psp-client.js';
import { storedRefund, type RefundMoveFacts, type RefundRow } from './refund-state.js';

export type RefundKind = 'AFTER_SALE' | 'COMPENSATION';

/** The compensation refund of a payment has one id for its whole life, so every retry is the same refund at the provider. */
export const compensationRefundId = (paymentId: string): string => `rfd_${paymentId.slice(paymentId.indexOf('_') + 1)}`;

/**
 * order.payment-rejected: the payment succeeded but its order cannot take it (canceled, expired).
 * Refund it in full (a saga compensation), then payment.refunded {refundId: null}.
 */
export async function compensateRejectedPayment(tx: EntityManager, event: EventEnvelope<'order.payment-rejected'>): Promise<void> {
  const payment = await lockPayment(tx, event.payload.paymentId);
  if (!payment || payment.order_id !== event.payload.orderId) {
    logger.error({ event }, 'payment-rejected names no payment of that order: nothing to refund');
    return;
  }
  if (payment.status === 'REFUNDED') {
    logger.info({ paymentId: payment.id, eventId: event.eventId }, 'payment-rejected for a payment already refunded: nothing to do');
    return;
  }
  if (payment.status !== 'SUCCEEDED') {
    logger.warn(
      { paymentId: payment.id, status: payment.status, eventId: event.eventId },
      'payment-rejected for a payment that has not captured money: nothing to refund',
    );
    return;
  }
  const remaining = payment.amount - (await refundedAmount(tx, payment.id));
  if (remaining <= 0) return;
  const done = await executeRefund(tx, payment, {
    refundId: compensationRefundId(payment.id),
    kind: 'COMPENSATION',
    amount: remaining,
    reason: `order rejected the payment: ${event.payload.reason}`.slice(0, 500),
    correlationId: event.correlationId,
  });
  if (done === 'SUCCEEDED') sagaCompensations.inc();
}

/** order.refund-requested: an after-sale refund the order's policy approved; executed at the provider. */
export async function executeRequestedRefund(tx: EntityManager, event: EventEnvelope<'order.refund-requested'>): Promise<void> {
  const { refundId, orderId, amount, reason } = event.payload;
  const ids = await paymentIdsOfOrders(tx, [orderId]);
  const candidate =
    ids.length === 0
      ? undefined
      : await db(tx)
          .selectFrom('payment')
          .select('id')
          .where('id', 'in', ids)
          .orderBy((eb) => eb('status', 'in', ['SUCCEEDED', 'REFUNDED']), 'desc')
          .orderBy('created_at', 'desc')
          .limit(1)
          .executeTakeFirst();
  const payment = candidate ? await lockPayment(tx, candidate.id) : undefined;
  if (!payment) {
    logger.error({ event }, 'refund requested for an order without any payment: nothing to refund');
    return;
  }
  if (amount.currency !== payment.currency) {
    await failRefundRequest(tx, payment, refundId, `refund currency ${amount.currency} does not match the payment's ${payment.currency}`, event.correlationId);
    return;
  }
  await executeRefund(tx, payment, { refundId, kind: 'AFTER_SALE', amount: amount.amount, reason, correlationId: event.correlationId });
}

interface RefundRequest {
  refundId: string;
  kind: RefundKind;
  amount: number;
  reason: string;
  correlationId: string;
}

/**
 * Executes a refund of a payment locked by the caller. The refund row is keyed by its id (a retry
 * or redelivery finds it), the provider is idempotent on refundRef = refund id, so calling it
 * again after a crash is safe. An unreachable provider throws: the consumer retries later.
 * Returns the refund's final status.
 */
async function executeRefund(tx: EntityManager, payment: PaymentRow, request: RefundRequest): Promise<'SUCCEEDED' | 'FAILED'> {
  await db(tx)
    .insertInto('refund')
    .values({
      id: request.refundId,
      payment_id: payment.id,
      order_id: payment.order_id,
      amount: request.amount,
      currency: payment.currency,
      status: 'REQUESTED',
      reason: request.reason,
      kind: request.kind,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const refund = await db(tx).selectFrom('refund').selectAll().where('id', '=', request.refundId).forUpdate().executeTakeFirst();
  if (!refund) throw new Error(`refund ${request.refundId} vanished`);
  if (refund.status !== 'REQUESTED') return refund.status;
  const publicRefundId = request.kind === 'AFTER_SALE' ? refund.id : null;
  const facts = { correlationId: request.correlationId, publicRefundId, kind: request.kind, reason: request.reason };

  if (refund.payment_id !== payment.id || !payment.payment_txn_id || (payment.status !== 'SUCCEEDED' && payment.status !== 'REFUNDED')) {
    await failRefund(tx, refund, { ...facts, error: `payment ${payment.id} is ${payment.status}: only a captured payment can be refunded` });
    return 'FAILED';
  }
  let providerRefundId: string;
  try {
    const done = await requestRefund({ paymentTxnId: payment.payment_txn_id, amount: refund.amount, currency: payment.currency, refundRef: refund.id });
    providerRefundId = done.refundId;
  } catch (error) {
    if (error instanceof PspRejectedError) {
      await failRefund(tx, refund, { ...facts, error: error.message });
      return 'FAILED';
    }
    throw error;
  }
  await applyTransition(tx, storedRefund, {
    id: refund.id,
    to: 'SUCCEEDED',
    locked: refund,
    set: { psp_refund_id: providerRefundId },
    facts: { ...facts, providerRefundId },
  });
  const refundedTotal = await refundedAmount(tx, payment.id);
  if (payment.status === 'SUCCEEDED' && refundedTotal >= payment.amount) {
    await transitionPayment(tx, payment, 'REFUNDED', { correlationId: request.correlationId, reason: `${request.kind.toLowerCase()} refund ${refund.id}` });
  }
  return 'SUCCEEDED';
}

async function refundedAmount(tx: EntityManager, paymentId: string): Promise<number> {
  const sum = await db(tx)
    .selectFrom('refund')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('amount'), eb.lit(0)).as('total'))
    .where('payment_id', '=', paymentId)
    .where('status', '=', 'SUCCEEDED')
    .executeTakeFirst();
  return Number(sum?.total ?? 0);
}

function failRefund(tx: EntityManager, refund: RefundRow, facts: RefundMoveFacts & { error: string }): Promise<unknown> {
  return applyTransition(tx, storedRefund, { id: refund.id, to: 'FAILED', locked: refund, set: { error: facts.error.slice(0, 500) }, facts });
}

async function failRefundRequest(tx: EntityManager, payment: PaymentRow, refundId: string, error: string, correlationId: string): Promise<void> {
  // Recorded as born FAILED (it never went to the provider), so a redelivery finds it decided.
  const inserted = await db(tx)
    .insertInto('refund')
    .values({
      id: refundId,
      payment_id: payment.id,
      order_id: payment.order_id,
      amount: 1,
      currency: payment.currency,
      status: 'FAILED',
      reason: 'rejected request',
      kind: 'AFTER_SALE',
      error,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  if (inserted.numInsertedOrUpdatedRows === 0n) return;
  await audit(tx, payment.id, 'REFUND_FAILED', { refundId, error });
  await emit(tx, {
    type: 'payment.refund-failed',
    aggregateId: payment.id,
    correlationId,
    payload: { refundId, paymentId: payment.id, orderId: payment.order_id, error },
  });
}
