import { z } from 'zod';
import { json, logger, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';
import { callbackDelay, callbackDelayWindow, callbackOutcomes, flaggedPayments } from './metrics.js';
import { flagPayment, lockPayment, transitionPayment, type PaymentRow } from './payment-state.js';

/** The provider's callback body (CONTRACT.md "Payment-provider callback"), checked where it enters. */
export const callbackSchema = z.object({
  eventId: z.string().min(1).max(200),
  paymentTxnId: z.string().min(1).max(200),
  paymentId: z.string().min(1).max(200),
  status: z.enum(['SUCCEEDED', 'FAILED', 'REFUNDED']),
  amount: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  currency: z.string().regex(/^[A-Z]{3}$/),
  occurredAt: z.string().datetime({ offset: true }),
});
export type ProviderCallback = z.infer<typeof callbackSchema>;

export type CallbackSource = 'provider' | 'reconciliation';

/**
 * What a callback did:
 * - APPLIED: the payment changed status (and its event is in the outbox)
 * - DUPLICATE: this eventId or (paymentTxnId, status) was recorded before: nothing changed
 * - UNKNOWN_PAYMENT: no payment with that id; recorded for reconciliation
 * - FLAGGED: amount/currency mismatch or a result the payment cannot take; recorded and flagged
 * - NO_CHANGE: already in that state (e.g. the REFUNDED confirmation of a refund we made)
 */
export type CallbackOutcome = 'APPLIED' | 'DUPLICATE' | 'UNKNOWN_PAYMENT' | 'FLAGGED' | 'NO_CHANGE';

export interface CallbackResult {
  outcome: CallbackOutcome;
  detail?: string;
}

/**
 * The one idempotent path of a provider result, for the HTTP callback and for reconciliation's
 * replays alike. In one transaction: record the callback (a duplicate stops here), lock the
 * payment, apply what the result means through the payment state machine.
 */
export async function processCallback(
  em: EntityManager,
  cb: ProviderCallback,
  source: CallbackSource,
  correlationId: string,
  raw: unknown = cb,
): Promise<CallbackResult> {
  const result = await em.fork().transactional(async (tx) => {
    const inserted = await db(tx)
      .insertInto('payment_callback')
      .values({
        event_id: cb.eventId,
        payment_txn_id: cb.paymentTxnId,
        payment_id: cb.paymentId,
        status: cb.status,
        amount: cb.amount,
        currency: cb.currency,
        occurred_at: cb.occurredAt,
        raw: json(raw),
        source,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (inserted.numInsertedOrUpdatedRows === 0n) return { outcome: 'DUPLICATE' } as CallbackResult;
    const payment = await lockPayment(tx, cb.paymentId);
    const decided: CallbackResult = payment
      ? await apply(tx, payment, cb, correlationId)
      : { outcome: 'UNKNOWN_PAYMENT', detail: `no payment ${cb.paymentId}` };
    await db(tx)
      .updateTable('payment_callback')
      .set({ outcome: decided.detail ? `${decided.outcome}: ${decided.detail}` : decided.outcome })
      .where('event_id', '=', cb.eventId)
      .execute();
    return decided;
  });
  callbackOutcomes.inc({ source, outcome: result.outcome });
  if (result.outcome !== 'DUPLICATE' && source === 'provider') {
    const delaySeconds = Math.max(0, (Date.now() - Date.parse(cb.occurredAt)) / 1000);
    callbackDelay.observe(delaySeconds);
    callbackDelayWindow.record(delaySeconds);
  }
  if (result.outcome === 'FLAGGED' || result.outcome === 'UNKNOWN_PAYMENT') {
    logger.warn({ callback: cb, source, correlationId, ...result }, 'payment callback needs reconciliation');
  }
  return result;
}

async function flag(tx: EntityManager, payment: PaymentRow, cb: ProviderCallback, reason: string): Promise<CallbackResult> {
  await flagPayment(tx, payment, reason, { eventId: cb.eventId, paymentTxnId: cb.paymentTxnId, status: cb.status, amount: cb.amount, currency: cb.currency });
  flaggedPayments.inc();
  return { outcome: 'FLAGGED', detail: reason };
}

async function apply(tx: EntityManager, payment: PaymentRow, cb: ProviderCallback, correlationId: string): Promise<CallbackResult> {
  const matches = cb.amount === payment.amount && cb.currency === payment.currency.trim();
  const sameTxn = payment.payment_txn_id === null || payment.payment_txn_id === cb.paymentTxnId;
  switch (cb.status) {
    case 'SUCCEEDED': {
      if (payment.status !== 'PENDING') {
        if (payment.payment_txn_id === cb.paymentTxnId) return { outcome: 'NO_CHANGE', detail: `payment is already ${payment.status}` };
        return flag(tx, payment, cb, `success callback for a payment in status ${payment.status}`);
      }
      if (!matches) {
        return flag(tx, payment, cb, `callback amount ${cb.amount} ${cb.currency} does not match the payment's ${payment.amount} ${payment.currency}`);
      }
      await transitionPayment(tx, payment, 'SUCCEEDED', {
        correlationId,
        reason: `provider callback ${cb.eventId}`,
        paymentTxnId: cb.paymentTxnId,
        event: {
          type: 'payment.succeeded',
          payload: { paymentId: payment.id, orderId: payment.order_id, paymentTxnId: cb.paymentTxnId, amount: { amount: cb.amount, currency: cb.currency } },
        },
      });
      return { outcome: 'APPLIED' };
    }
    case 'FAILED': {
      if (payment.status !== 'PENDING') {
        if (payment.status === 'FAILED') return { outcome: 'NO_CHANGE', detail: 'payment is already FAILED' };
        return flag(tx, payment, cb, `failure callback for a payment in status ${payment.status}`);
      }
      await transitionPayment(tx, payment, 'FAILED', {
        correlationId,
        reason: `provider callback ${cb.eventId}`,
        event: { type: 'payment.failed', payload: { paymentId: payment.id, orderId: payment.order_id, paymentTxnId: cb.paymentTxnId } },
      });
      return { outcome: 'APPLIED' };
    }
    case 'REFUNDED': {
      if (!sameTxn) return flag(tx, payment, cb, `refund callback for transaction ${cb.paymentTxnId}, not the payment's ${payment.payment_txn_id}`);
      if (payment.status === 'REFUNDED') return { outcome: 'NO_CHANGE', detail: 'confirms a refund already recorded' };
      if (payment.status !== 'SUCCEEDED') return flag(tx, payment, cb, `refund callback for a payment in status ${payment.status}`);
      // A full refund made at the provider that we have not recorded (ours hold the row lock while
      // they call the provider, so they are recorded before this callback can look).
      await transitionPayment(tx, payment, 'REFUNDED', {
        correlationId,
        reason: `provider callback ${cb.eventId}`,
        event: {
          type: 'payment.refunded',
          payload: {
            refundId: null,
            paymentId: payment.id,
            orderId: payment.order_id,
            amount: { amount: cb.amount, currency: cb.currency },
            reason: 'refunded at the payment provider',
          },
        },
      });
      return { outcome: 'APPLIED' };
    }
  }
}
