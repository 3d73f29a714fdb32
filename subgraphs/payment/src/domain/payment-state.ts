import type { EventPayload, EventType } from '@shop/schema';
import {
  DomainError,
  ErrorCode,
  applyTransition,
  defineMachine,
  json,
  lockRow,
  type AnyEmitOptions,
  type EntityManager,
  type Selectable,
  type StoredMachine,
  dbClock,
} from '@shop/kit';
import { db, type Db } from '../persistence.js';
import { PAYMENT_STATUSES } from './entities.js';

export { PAYMENT_STATUSES };
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export type PaymentRow = Selectable<Db['payment']>;

/** The payment state machine as data: from -> allowed to. */
export const paymentMachine = defineMachine<PaymentStatus>({
  name: 'payment',
  states: PAYMENT_STATUSES,
  transitions: {
    PENDING: ['SUCCEEDED', 'FAILED'],
    SUCCEEDED: ['REFUNDED'],
    FAILED: [],
    REFUNDED: [],
  },
  refuse: (message, { from, to }) => new DomainError(ErrorCode.ORDER_STATE_INVALID, message, { from, to }),
});

export const PAYMENT_TRANSITIONS = paymentMachine.transitions;
export const canTransition = (from: PaymentStatus, to: PaymentStatus): boolean => paymentMachine.can(from, to);

export interface TransitionOptions {
  correlationId: string;
  /** Why: written to the audit row. */
  reason: string;
  /** Recorded on the payment when the provider reports the transaction (success). */
  paymentTxnId?: string;
  /** The integration event that others must hear about, written in the same transaction. */
  event?: { [T in EventType]: { type: T; payload: EventPayload<T> } }[EventType];
}

/** Writes one audit row of a payment (state changes, flags, refunds, sessions): the one writer of payment_event. */
export async function audit(tx: EntityManager, paymentId: string, type: string, payload: Record<string, unknown>): Promise<void> {
  await db(tx)
    .insertInto('payment_event')
    .values({ payment_id: paymentId, type, payload: json(payload) })
    .execute();
}

const storedPayment: StoredMachine<Db, 'payment', PaymentStatus, TransitionOptions> = {
  machine: paymentMachine,
  table: 'payment',
  key: 'id',
  status: 'status',
  version: 'version',
  touch: () => ({ updated_at: dbClock() }),
  // Written with the move and its event in one statement (kit apply.ts).
  auditRow: ({ id, from, to, after }, facts) => ({
    table: 'payment_event',
    values: {
      payment_id: id,
      type: `STATUS_${to}`,
      payload: json({ from, to, reason: facts.reason, version: after.version, paymentTxnId: facts.paymentTxnId ?? null }),
    },
  }),
  event: ({ id }, { event, correlationId }) => (event ? ({ ...event, aggregateId: id, correlationId } as AnyEmitOptions) : undefined),
};

/**
 * Applies one transition to a payment the caller has locked (lockPayment) in `tx`, through the
 * kit's one apply function: checks the table, bumps the version (refusing a stale row), writes
 * the audit row and the event. Returns the updated row.
 */
export async function transitionPayment(tx: EntityManager, payment: PaymentRow, to: PaymentStatus, options: TransitionOptions): Promise<PaymentRow> {
  const { row } = await applyTransition(tx, storedPayment, {
    id: payment.id,
    to,
    locked: payment,
    facts: options,
    set: options.paymentTxnId ? { payment_txn_id: options.paymentTxnId } : {},
  });
  return row;
}

/** Marks a payment for reconciliation (amount mismatch, unexpected callback); its status stays. */
export async function flagPayment(tx: EntityManager, payment: PaymentRow, reason: string, details: Record<string, unknown>): Promise<void> {
  await db(tx)
    .updateTable('payment')
    .set((eb) => ({ flagged_reason: reason.slice(0, 500), version: eb('version', '+', 1), updated_at: dbClock() }))
    .where('id', '=', payment.id)
    .execute();
  await audit(tx, payment.id, 'FLAGGED', { reason, ...details });
}

export const lockPayment = (tx: EntityManager, paymentId: string): Promise<PaymentRow | undefined> => lockRow(tx, storedPayment, paymentId);
