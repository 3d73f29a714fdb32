import { DomainError, ErrorCode, emit, type EntityManager, rawSql } from '@shop/kit';
import type { EventPayload, EventType } from '@shop/schema';

export const PAYMENT_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** The payment state machine: from -> allowed to. Nothing else assigns a payment status. */
export const PAYMENT_TRANSITIONS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  PENDING: ['SUCCEEDED', 'FAILED'],
  SUCCEEDED: ['REFUNDED'],
  FAILED: [],
  REFUNDED: [],
};

export const canTransition = (from: PaymentStatus, to: PaymentStatus): boolean => PAYMENT_TRANSITIONS[from].includes(to);

export interface PaymentRow {
  id: string;
  order_id: string;
  user_id: string;
  amount: number;
  currency: string;
  status: PaymentStatus;
  psp_intent_id: string | null;
  checkout_url: string | null;
  payment_txn_id: string | null;
  flagged_reason: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface TransitionOptions<T extends EventType> {
  correlationId: string;
  /** Why: written to the audit row. */
  reason: string;
  /** Recorded on the payment when the provider reports the transaction (success). */
  paymentTxnId?: string;
  /** The integration event that others must hear about, written in the same transaction. */
  event?: { type: T; payload: EventPayload<T> };
}

/** Writes one audit row of a payment (state changes, flags, refunds, sessions). */
export async function audit(tx: EntityManager, paymentId: string, type: string, payload: Record<string, unknown>): Promise<void> {
  await rawSql(tx).run('INSERT INTO payment_event (payment_id, type, payload) VALUES (?, ?, ?)', [paymentId, type, JSON.stringify(payload)]);
}

/**
 * Applies one transition to a payment the caller has locked (SELECT ... FOR UPDATE) in `tx`:
 * checks it against the table, bumps the version (refusing a stale row), writes the audit row and
 * the event. Returns the updated row.
 */
export async function transitionPayment<T extends EventType>(
  tx: EntityManager,
  payment: PaymentRow,
  to: PaymentStatus,
  options: TransitionOptions<T>,
): Promise<PaymentRow> {
  if (!canTransition(payment.status, to)) {
    throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `payment ${payment.id} cannot go from ${payment.status} to ${to}`);
  }
  const [updated] = await rawSql(tx).all<PaymentRow>(
    `UPDATE payment SET status = ?, payment_txn_id = COALESCE(?, payment_txn_id), version = version + 1, updated_at = clock_timestamp()
     WHERE id = ? AND version = ? RETURNING *`,
    [to, options.paymentTxnId ?? null, payment.id, payment.version],
  );
  if (!updated) throw new Error(`payment ${payment.id} changed concurrently (version ${payment.version})`);
  await audit(tx, payment.id, `STATUS_${to}`, {
    from: payment.status,
    to,
    reason: options.reason,
    version: updated.version,
    paymentTxnId: options.paymentTxnId ?? null,
  });
  if (options.event) {
    await emit(tx, { type: options.event.type, aggregateId: payment.id, correlationId: options.correlationId, payload: options.event.payload });
  }
  return updated;
}

/** Marks a payment for reconciliation (amount mismatch, unexpected callback); its status stays. */
export async function flagPayment(tx: EntityManager, payment: PaymentRow, reason: string, details: Record<string, unknown>): Promise<void> {
  await rawSql(tx).run('UPDATE payment SET flagged_reason = ?, version = version + 1, updated_at = clock_timestamp() WHERE id = ?', [
    reason.slice(0, 500),
    payment.id,
  ]);
  await audit(tx, payment.id, 'FLAGGED', { reason, ...details });
}

export async function lockPayment(tx: EntityManager, paymentId: string): Promise<PaymentRow | undefined> {
  return (await rawSql(tx).all<PaymentRow>('SELECT * FROM payment WHERE id = ? FOR UPDATE', [paymentId]))[0];
}
