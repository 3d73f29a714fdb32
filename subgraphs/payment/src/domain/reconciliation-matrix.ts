import type { PaymentStatus } from './payment-state.js';

/** Our side of a pair: a payment's status, or no payment with that id. */
export type OurSide = PaymentStatus | 'NONE';
/** The provider's side: a ledger transaction's status, or none listed in the window. */
export type ProviderSide = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'REFUNDED' | 'NONE';

export type DiffKind =
  | 'AMOUNT_MISMATCH' // the provider's amount or currency is not the payment's
  | 'UNKNOWN_PAYMENT' // the provider has a transaction for a paymentId we do not know
  | 'REFUNDED_AT_PROVIDER_ONLY' // the provider refunded money we hold as captured (SUCCEEDED)
  | 'REFUNDED_BEFORE_RECORDED' // the provider captured and refunded; we never saw the capture (PENDING)
  | 'CAPTURED_BUT_FAILED_HERE' // the provider holds captured money for a payment we call FAILED
  | 'SUCCEEDED_HERE_ONLY' // we call it SUCCEEDED, the provider has not captured it (or does not list it)
  | 'REFUND_MISSING_AT_PROVIDER' // we recorded a refund, the provider still holds the money
  | 'REFUNDED_HERE_NOT_CAPTURED' // we recorded a refund of money the provider never captured
  | 'FAILED_HERE_PENDING_AT_PROVIDER' // we call it FAILED, the provider has not decided yet
  | 'REPAIR_FAILED'; // a replay did not bring the payment in line

/**
 * What reconciliation does with each pair of states:
 * - OK: consistent (or still in flight), nothing to do;
 * - REPLAY_SUCCEEDED / REPLAY_FAILED: a result the provider decided never reached us; it is replayed
 *   through the callback path. Only from PENDING, and a success only when the provider still holds
 *   the money: refunded money never becomes a paid order;
 * - REPORT: reported with a kind the runbook explains (README "Operator cases"); nothing changes.
 */
export type MatrixAction = { action: 'OK' } | { action: 'REPLAY_SUCCEEDED' } | { action: 'REPLAY_FAILED' } | { action: 'REPORT'; kind: DiffKind };

const ok = { action: 'OK' } as const;
const report = (kind: DiffKind) => ({ action: 'REPORT', kind }) as const;

/** Every pair (ours × provider's), as data. A unit test checks that it is complete and never turns refunded money into a paid order. */
export const RECONCILIATION_MATRIX: Readonly<Record<OurSide, Readonly<Record<ProviderSide, MatrixAction>>>> = {
  PENDING: {
    PENDING: ok,
    SUCCEEDED: { action: 'REPLAY_SUCCEEDED' },
    FAILED: { action: 'REPLAY_FAILED' },
    REFUNDED: report('REFUNDED_BEFORE_RECORDED'),
    NONE: ok, // no intent at the provider yet, or outside the window
  },
  SUCCEEDED: {
    PENDING: report('SUCCEEDED_HERE_ONLY'),
    SUCCEEDED: ok,
    FAILED: report('SUCCEEDED_HERE_ONLY'),
    REFUNDED: report('REFUNDED_AT_PROVIDER_ONLY'),
    NONE: report('SUCCEEDED_HERE_ONLY'),
  },
  FAILED: {
    PENDING: report('FAILED_HERE_PENDING_AT_PROVIDER'),
    SUCCEEDED: report('CAPTURED_BUT_FAILED_HERE'),
    FAILED: ok,
    REFUNDED: ok, // no money held on either side
    NONE: ok,
  },
  REFUNDED: {
    PENDING: report('REFUNDED_HERE_NOT_CAPTURED'),
    SUCCEEDED: report('REFUND_MISSING_AT_PROVIDER'),
    FAILED: report('REFUNDED_HERE_NOT_CAPTURED'),
    REFUNDED: ok,
    NONE: report('SUCCEEDED_HERE_ONLY'),
  },
  NONE: {
    PENDING: report('UNKNOWN_PAYMENT'),
    SUCCEEDED: report('UNKNOWN_PAYMENT'),
    FAILED: report('UNKNOWN_PAYMENT'),
    REFUNDED: report('UNKNOWN_PAYMENT'),
    NONE: ok,
  },
};

export const decide = (ours: OurSide, provider: ProviderSide): MatrixAction => RECONCILIATION_MATRIX[ours][provider];
