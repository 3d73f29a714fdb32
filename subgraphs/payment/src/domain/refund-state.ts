import { DomainError, ErrorCode, defineMachine, logger, type Selectable, type StoredMachine, dbClock } from '@shop/kit';
import type { Db } from '../persistence.js';
import { REFUND_STATUSES } from './entities.js';
import { audit } from './payment-state.js';

export type RefundStatus = (typeof REFUND_STATUSES)[number];
export type RefundRow = Selectable<Db['refund']>;

/** A refund at the provider: REQUESTED until the provider answers, then SUCCEEDED or FAILED for good. */
export const refundMachine = defineMachine<RefundStatus>({
  name: 'refund',
  states: REFUND_STATUSES,
  transitions: { REQUESTED: ['SUCCEEDED', 'FAILED'], SUCCEEDED: [], FAILED: [] },
  refuse: (message, { from }) => new DomainError(ErrorCode.ORDER_STATE_INVALID, message, { status: from }),
});

export interface RefundMoveFacts {
  correlationId: string;
  /** The refund id the order knows (an after-sale refund's), or null for a compensation. */
  publicRefundId: string | null;
  kind: 'AFTER_SALE' | 'COMPENSATION';
  reason: string;
  /** For SUCCEEDED: the provider's refund id. For FAILED: why. */
  providerRefundId?: string;
  error?: string;
}

/** Every move is audited on the payment (payment_event) and announced: payment.refunded or payment.refund-failed. */
export const storedRefund: StoredMachine<Db, 'refund', RefundStatus, RefundMoveFacts> = {
  machine: refundMachine,
  table: 'refund',
  key: 'id',
  status: 'status',
  version: 'version',
  touch: () => ({ updated_at: dbClock() }),
  audit: async (tx, { id, to, after }, facts) => {
    if (to === 'SUCCEEDED') {
      await audit(tx, after.payment_id, 'REFUND_SUCCEEDED', {
        refundId: id,
        kind: facts.kind,
        amount: after.amount,
        providerRefundId: facts.providerRefundId,
        reason: facts.reason,
      });
    } else {
      await audit(tx, after.payment_id, 'REFUND_FAILED', { refundId: id, amount: after.amount, error: facts.error });
      logger.error({ paymentId: after.payment_id, refundId: id, error: facts.error, correlationId: facts.correlationId }, 'refund failed');
    }
  },
  event: ({ to, after }, facts) =>
    to === 'SUCCEEDED'
      ? {
          type: 'payment.refunded',
          aggregateId: after.payment_id,
          correlationId: facts.correlationId,
          payload: {
            refundId: facts.publicRefundId,
            paymentId: after.payment_id,
            orderId: after.order_id,
            amount: { amount: after.amount, currency: after.currency },
            reason: facts.reason,
          },
        }
      : {
          type: 'payment.refund-failed',
          aggregateId: after.payment_id,
          correlationId: facts.correlationId,
          payload: { refundId: facts.publicRefundId, paymentId: after.payment_id, orderId: after.order_id, error: (facts.error ?? '').slice(0, 500) },
        },
};
