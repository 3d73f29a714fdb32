import { randomUUID } from 'node:crypto';
import { logger, type EntityManager, sql } from '@shop/kit';
import { processCallback, type CallbackOutcome } from './callback.js';
import { reconciliationDiffs } from './metrics.js';
import type { PaymentRow } from './payment-state.js';
import { ledger, type LedgerTransaction } from './psp-client.js';

export type DiffKind =
  | 'AMOUNT_MISMATCH' // the provider's amount or currency is not the payment's
  | 'REFUNDED_AT_PROVIDER_ONLY' // the provider refunded, our payment is not REFUNDED
  | 'SUCCEEDED_HERE_ONLY' // our payment SUCCEEDED, the provider does not have it captured
  | 'UNKNOWN_PAYMENT' // the provider has a transaction for a paymentId we do not know
  | 'REPAIR_FAILED'; // a replay did not bring the payment in line

export interface Diff {
  kind: DiffKind;
  paymentId: string;
  paymentTxnId: string | null;
  provider: { status: string; amount: number; currency: string } | null;
  ours: { status: string; amount: number; currency: string; flaggedReason: string | null } | null;
  detail?: string;
}

export interface Repair {
  paymentId: string;
  paymentTxnId: string;
  status: 'SUCCEEDED' | 'FAILED';
  outcome: CallbackOutcome;
}

export interface ReconciliationReport {
  from: string;
  to: string;
  providerTransactions: number;
  repaired: Repair[];
  diffs: Diff[];
}

/**
 * Compares the provider's ledger over [from, to] with our payments (seed-design §9.3, §15.5).
 * A result the provider decided (SUCCEEDED, FAILED) that never reached us is replayed through the
 * callback path itself, as a synthesised callback marked source=reconciliation: the same
 * idempotency keys, the same state machine, the same events. Everything else is reported, and
 * the count of what is left is the reconciliation_diff_count gauge.
 */
export async function reconcile(em: EntityManager, from: Date, to: Date, correlationId: string = randomUUID()): Promise<ReconciliationReport> {
  const transactions = await ledger(from, to);
  const ids = [...new Set(transactions.map((t) => t.paymentId))];
  const ours = await paymentsByIds(em, ids);
  const repaired: Repair[] = [];
  const diffs: Diff[] = [];

  for (const txn of transactions) {
    const payment = ours.get(txn.paymentId);
    const provider = { status: txn.status, amount: txn.amount, currency: txn.currency };
    const view = payment ? { status: payment.status, amount: payment.amount, currency: payment.currency, flaggedReason: payment.flagged_reason } : null;
    const diff = (kind: DiffKind, detail?: string) =>
      diffs.push({ kind, paymentId: txn.paymentId, paymentTxnId: txn.paymentTxnId, provider, ours: view, ...(detail ? { detail } : {}) });
    if (!payment) {
      diff('UNKNOWN_PAYMENT');
      continue;
    }
    if (txn.amount !== payment.amount || txn.currency !== payment.currency) {
      diff('AMOUNT_MISMATCH');
      continue;
    }
    const decided = txn.status === 'SUCCEEDED' || txn.status === 'REFUNDED' ? 'SUCCEEDED' : txn.status === 'FAILED' ? 'FAILED' : null;
    if (decided && payment.status === 'PENDING') {
      const result = await replay(em, txn, decided, correlationId);
      repaired.push({ paymentId: payment.id, paymentTxnId: txn.paymentTxnId, status: decided, outcome: result });
      if (result !== 'APPLIED') diff('REPAIR_FAILED', `replaying ${decided} gave ${result}`);
      else if (txn.status === 'REFUNDED') diff('REFUNDED_AT_PROVIDER_ONLY');
      continue;
    }
    if (txn.status === 'REFUNDED' && payment.status !== 'REFUNDED') diff('REFUNDED_AT_PROVIDER_ONLY');
    else if (payment.status === 'SUCCEEDED' && txn.status !== 'SUCCEEDED') diff('SUCCEEDED_HERE_ONLY');
  }

  // Our captured payments in the window that the provider does not list at all.
  const listed = new Set(ids);
  const captured = await sql(em).all<PaymentRow>(`SELECT * FROM payment WHERE status IN ('SUCCEEDED', 'REFUNDED') AND updated_at BETWEEN ? AND ?`, [from, to]);
  for (const payment of captured) {
    if (listed.has(payment.id)) continue;
    diffs.push({
      kind: 'SUCCEEDED_HERE_ONLY',
      paymentId: payment.id,
      paymentTxnId: payment.payment_txn_id,
      provider: null,
      ours: { status: payment.status, amount: payment.amount, currency: payment.currency, flaggedReason: payment.flagged_reason },
    });
  }

  reconciliationDiffs.set(diffs.length);
  const report = { from: from.toISOString(), to: to.toISOString(), providerTransactions: transactions.length, repaired, diffs };
  if (diffs.length > 0 || repaired.length > 0) logger.warn({ correlationId, repaired, diffs: diffs.length }, 'reconciliation found differences');
  return report;
}

/** Replays a decided result as if its callback had arrived, through the same idempotent path. */
async function replay(em: EntityManager, txn: LedgerTransaction, status: 'SUCCEEDED' | 'FAILED', correlationId: string): Promise<CallbackOutcome> {
  const callback = {
    eventId: `rcn_${txn.paymentTxnId}_${status}`,
    paymentTxnId: txn.paymentTxnId,
    paymentId: txn.paymentId,
    status,
    amount: txn.amount,
    currency: txn.currency,
    occurredAt: txn.updatedAt,
  };
  const result = await processCallback(em, callback, 'reconciliation', correlationId, { synthesisedFrom: 'provider ledger', transaction: txn });
  return result.outcome;
}

async function paymentsByIds(em: EntityManager, ids: string[]): Promise<Map<string, PaymentRow>> {
  const found = new Map<string, PaymentRow>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const batch = await sql(em).all<PaymentRow>(`SELECT * FROM payment WHERE id IN (${chunk.map(() => '?').join(', ')})`, chunk);
    for (const p of batch) found.set(p.id, p);
  }
  return found;
}
