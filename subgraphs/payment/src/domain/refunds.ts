import { emit, logger, type EntityManager, rawSql } from '@shop/kit';
import type { EventEnvelope } from '@shop/schema';
import { sagaCompensations } from './metrics.js';
import { audit, lockPayment, transitionPayment, type PaymentRow } from './payment-state.js';
import { PspRejectedError, requestRefund } from './psp-client.js';

export type RefundKind = 'AFTER_SALE' | 'COMPENSATION';

interface RefundRow {
  id: string;
  payment_id: string;
  amount: number;
  currency: string;
  status: 'REQUESTED' | 'SUCCEEDED' | 'FAILED';
}

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
  const [candidate] = await rawSql(tx).all<{ id: string }>(
    `SELECT id FROM payment WHERE order_id = ? ORDER BY (status IN ('SUCCEEDED', 'REFUNDED')) DESC, created_at DESC LIMIT 1`,
    [orderId],
  );
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
  await rawSql(tx).run(
    `INSERT INTO refund (id, payment_id, order_id, amount, currency, status, reason, kind) VALUES (?, ?, ?, ?, ?, 'REQUESTED', ?, ?) ON CONFLICT (id) DO NOTHING`,
    [request.refundId, payment.id, payment.order_id, request.amount, payment.currency, request.reason, request.kind],
  );
  const [refund] = await rawSql(tx).all<RefundRow>('SELECT id, payment_id, amount, currency, status FROM refund WHERE id = ?', [request.refundId]);
  if (!refund) throw new Error(`refund ${request.refundId} vanished`);
  if (refund.status !== 'REQUESTED') return refund.status;
  const publicRefundId = request.kind === 'AFTER_SALE' ? refund.id : null;

  if (refund.payment_id !== payment.id || !payment.payment_txn_id || (payment.status !== 'SUCCEEDED' && payment.status !== 'REFUNDED')) {
    await failRefund(
      tx,
      payment,
      refund,
      publicRefundId,
      `payment ${payment.id} is ${payment.status}: only a captured payment can be refunded`,
      request.correlationId,
    );
    return 'FAILED';
  }
  let providerRefundId: string;
  try {
    const done = await requestRefund({ paymentTxnId: payment.payment_txn_id, amount: refund.amount, currency: payment.currency, refundRef: refund.id });
    providerRefundId = done.refundId;
  } catch (error) {
    if (error instanceof PspRejectedError) {
      await failRefund(tx, payment, refund, publicRefundId, error.message, request.correlationId);
      return 'FAILED';
    }
    throw error;
  }
  await rawSql(tx).run(`UPDATE refund SET status = 'SUCCEEDED', psp_refund_id = ?, updated_at = clock_timestamp() WHERE id = ?`, [providerRefundId, refund.id]);
  await audit(tx, payment.id, 'REFUND_SUCCEEDED', { refundId: refund.id, kind: request.kind, amount: refund.amount, providerRefundId, reason: request.reason });
  const refundedTotal = await refundedAmount(tx, payment.id);
  if (payment.status === 'SUCCEEDED' && refundedTotal >= payment.amount) {
    await transitionPayment(tx, payment, 'REFUNDED', { correlationId: request.correlationId, reason: `${request.kind.toLowerCase()} refund ${refund.id}` });
  }
  await emit(tx, {
    type: 'payment.refunded',
    aggregateId: payment.id,
    correlationId: request.correlationId,
    payload: {
      refundId: publicRefundId,
      paymentId: payment.id,
      orderId: payment.order_id,
      amount: { amount: refund.amount, currency: payment.currency },
      reason: request.reason,
    },
  });
  return 'SUCCEEDED';
}

async function refundedAmount(tx: EntityManager, paymentId: string): Promise<number> {
  const [sum] = await rawSql(tx).all<{ total: number | string | null }>(
    `SELECT COALESCE(SUM(amount), 0) AS total FROM refund WHERE payment_id = ? AND status = 'SUCCEEDED'`,
    [paymentId],
  );
  return Number(sum?.total ?? 0);
}

async function failRefund(
  tx: EntityManager,
  payment: PaymentRow,
  refund: RefundRow,
  publicRefundId: string | null,
  error: string,
  correlationId: string,
): Promise<void> {
  await rawSql(tx).run(`UPDATE refund SET status = 'FAILED', error = ?, updated_at = clock_timestamp() WHERE id = ?`, [error.slice(0, 500), refund.id]);
  await audit(tx, payment.id, 'REFUND_FAILED', { refundId: refund.id, amount: refund.amount, error });
  logger.error({ paymentId: payment.id, refundId: refund.id, error, correlationId }, 'refund failed');
  await emit(tx, {
    type: 'payment.refund-failed',
    aggregateId: payment.id,
    correlationId,
    payload: { refundId: publicRefundId, paymentId: payment.id, orderId: payment.order_id, error: error.slice(0, 500) },
  });
}

async function failRefundRequest(tx: EntityManager, payment: PaymentRow, refundId: string, error: string, correlationId: string): Promise<void> {
  const inserted = await rawSql(tx).run(
    `INSERT INTO refund (id, payment_id, order_id, amount, currency, status, reason, kind, error) VALUES (?, ?, ?, 1, ?, 'FAILED', 'rejected request', 'AFTER_SALE', ?) ON CONFLICT (id) DO NOTHING`,
    [refundId, payment.id, payment.order_id, payment.currency, error],
  );
  if (inserted === 0) return;
  await audit(tx, payment.id, 'REFUND_FAILED', { refundId, error });
  await emit(tx, {
    type: 'payment.refund-failed',
    aggregateId: payment.id,
    correlationId,
    payload: { refundId, paymentId: payment.id, orderId: payment.order_id, error },
  });
}
