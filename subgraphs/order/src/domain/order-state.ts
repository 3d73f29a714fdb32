import type { CancelReason, OrderStatus } from '@shop/schema';
import { DomainError, ErrorCode } from '@shop/kit';

export type { CancelReason, OrderStatus };

/**
 * The order state machine as data: from → the statuses it may move to. Nothing else assigns a
 * status; every move goes through `applyTransition` (orders.ts), which checks this table.
 */
export const ORDER_TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  CREATED: ['REVIEW', 'PENDING_PAYMENT', 'CANCELED'],
  // A high-risk order with its stock held waits for an admin: approve → PENDING_PAYMENT, reject → CANCELED (RISK_REJECTED).
  REVIEW: ['PENDING_PAYMENT', 'CANCELED'],
  PENDING_PAYMENT: ['PAID', 'CANCELED'],
  PAID: ['SHIPPED', 'REFUNDED'],
  SHIPPED: ['COMPLETED', 'REFUNDED'],
  // A refund approved after delivery still ends REFUNDED (the refund policy in refunds.ts).
  COMPLETED: ['REFUNDED'],
  CANCELED: [],
  REFUNDED: [],
};

export const canTransition = (from: OrderStatus, to: OrderStatus): boolean => ORDER_TRANSITIONS[from].includes(to);

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) {
    throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `an order in status ${from} cannot become ${to}`, { from, to });
  }
}

/** A cancel reason is required exactly when the target is CANCELED. */
export function assertReason(to: OrderStatus, reason: CancelReason | null): void {
  if ((to === 'CANCELED') !== (reason !== null)) throw new Error(`cancel reason ${reason} does not fit a move to ${to}`);
}

export const isTerminal = (status: OrderStatus): boolean => ORDER_TRANSITIONS[status].length === 0;
