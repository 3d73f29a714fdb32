import { DomainError, ErrorCode, defineMachine, type AnyEmitOptions, type Selectable, type StoredMachine, dbNow } from '@shop/kit';
import type { Db } from '../persistence.js';
import { REFUND_REQUEST_STATUSES } from './entities.js';
import { recordOrderEvent } from './order-events.js';

export type RefundStatus = (typeof REFUND_REQUEST_STATUSES)[number];
export type RefundRow = Selectable<Db['refund_request']>;

/**
 * A refund request of an order: one that needs approval (something shipped) waits in
 * PENDING_APPROVAL; REQUESTED went to the payment subgraph, which answers SUCCEEDED or FAILED.
 */
export const refundMachine = defineMachine<RefundStatus>({
  name: 'refund',
  states: REFUND_REQUEST_STATUSES,
  transitions: {
    PENDING_APPROVAL: ['REQUESTED', 'REJECTED'],
    REQUESTED: ['SUCCEEDED', 'FAILED'],
    SUCCEEDED: [],
    FAILED: [],
    REJECTED: [],
  },
  refuse: (message, { from }) => new DomainError(ErrorCode.ORDER_STATE_INVALID, message, { status: from }),
});

export interface RefundMoveFacts {
  correlationId: string;
  /** Facts for the order's audit row (who approved, the error, the payment). */
  audit: Record<string, unknown>;
}

/** The audit row of each move, in the order's trail (order_event). */
const AUDIT_TYPE: Record<RefundStatus, string> = {
  PENDING_APPROVAL: 'REFUND_REQUESTED',
  REQUESTED: 'REFUND_APPROVED',
  SUCCEEDED: 'REFUND_SUCCEEDED',
  FAILED: 'REFUND_FAILED',
  REJECTED: 'REFUND_REJECTED',
};

/** order.refund-requested: the refund goes to the payment subgraph (when placed already REQUESTED, or approved). */
export const refundRequested = (refund: RefundRow, correlationId: string): AnyEmitOptions => ({
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

export const storedRefund: StoredMachine<Db, 'refund_request', RefundStatus, RefundMoveFacts> = {
  machine: refundMachine,
  table: 'refund_request',
  key: 'id',
  status: 'status',
  version: 'version',
  touch: () => ({ updated_at: dbNow() }),
  audit: (tx, { id, to, after }, facts) => recordOrderEvent(tx, { orderId: after.order_id, type: AUDIT_TYPE[to], payload: { refundId: id, ...facts.audit } }),
  event: ({ to, after }, facts) => (to === 'REQUESTED' ? refundRequested(after, facts.correlationId) : undefined),
};
