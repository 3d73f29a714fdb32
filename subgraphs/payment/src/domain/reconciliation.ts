import { randomUUID } from 'node:crypto';
import { logger, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';
import { processCallback, type CallbackOutcome } from './callback.js';
import { reconciliationDiffs } from './metrics.js';
import type { PaymentRow } from './payment-state.js';
import { ledger, type LedgerTransaction } from './psp-client.js';
import { decide, type DiffKind, type ProviderSide } from './reconciliation-matrix.js';

export type { DiffKind };

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
  /** True when nothing was changed: `planned` lists the repairs a live run would make. */
  dryRun: boolean;
  providerTransactions: number;
  repaired: Repair[];
  planned: Omit<Repair, 'outcome'>[];
  diffs: Diff[];
}

/**
 * Compares the provider's ledger over [from, to] with our payments (seed-design §9.3, §15.5), pair
 * by pair through RECONCILIATION_MATRIX (reconciliation-matrix.ts). A result the provider decided
 * that never reached a PENDING payment is replayed through the callback path itself, as a
 * synthesised callback marked source=reconciliation: the same idempotency keys, the same state
 * machine, the same events. Everything else is reported with its kind, and the count of what is
 * left is the reconciliation_diff_count gauge. With dryRun nothing changes and `planned` says what
 * a live run would replay.
 */
export async function reconcile(
  em: EntityManager,
  from: Date,
  to: Date,
  correlationId: string = randomUUID(),
  options: { dryRun?: boolean } = {},
): Promise<ReconciliationReport> {
  const dryRun = options.dryRun === true;
  const transactions = await ledger(from, to);
  const ids = [...new Set(transactions.map((t) => t.paymentId))];
  const ours = await paymentsByIds(em, ids);
  const repaired: Repair[] = [];
  const planned: Omit<Repair, 'outcome'>[] = [];
  const diffs: Diff[] = [];

  for (const txn of transactions) {
    const payment = ours.get(txn.paymentId);
    const provider = { status: txn.status, amount: txn.amount, currency: txn.currency };
    const view = payment ? { status: payment.status, amount: payment.amount, currency: payment.currency, flaggedReason: payment.flagged_reason } : null;
    const diff = (kind: DiffKind, detail?: string) =>
      diffs.push({ kind, paymentId: txn.paymentId, paymentTxnId: txn.paymentTxnId, provider, ours: view, ...(detail ? { detail } : {}) });
    if (payment && (txn.amount !== payment.amount || txn.currency !== payment.currency.trim())) {
      diff('AMOUNT_MISMATCH');
      continue;
    }
    const decision = decide(payment?.status ?? 'NONE', txn.status as ProviderSide);
    if (decision.action === 'OK') continue;
    if (decision.action === 'REPORT') {
      diff(decision.kind);
      continue;
    }
    const status = decision.action === 'REPLAY_SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
    if (dryRun) {
      planned.push({ paymentId: txn.paymentId, paymentTxnId: txn.paymentTxnId, status });
      continue;
    }
    const result = await replay(em, txn, status, correlationId);
    repaired.push({ paymentId: txn.paymentId, paymentTxnId: txn.paymentTxnId, status, outcome: result });
    if (result !== 'APPLIED') diff('REPAIR_FAILED', `replaying ${status} gave ${result}`);
  }

  // Our captured payments in the window that the provider does not list at all.
  const listed = new Set(ids);
  const captured = await db(em)
    .selectFrom('payment')
    .selectAll()
    .where('status', 'in', ['SUCCEEDED', 'REFUNDED'])
    .where((eb) => eb.between('updated_at', from.toISOString(), to.toISOString()))
    .execute();
  for (const payment of captured) {
    if (listed.has(payment.id)) continue;
    const decision = decide(payment.status, 'NONE');
    if (decision.action !== 'REPORT') continue;
    diffs.push({
      kind: decision.kind,
      paymentId: payment.id,
      paymentTxnId: payment.payment_txn_id,
      provider: null,
      ours: { status: payment.status, amount: payment.amount, currency: payment.currency, flaggedReason: payment.flagged_reason },
    });
  }

  if (!dryRun) reconciliationDiffs.set(diffs.length);
  const report = { from: from.toISOString(), to: to.toISOString(), dryRun, providerTransactions: transactions.length, repaired, planned, diffs };
  if (diffs.length > 0 || repaired.length > 0) logger.warn({ correlationId, dryRun, repaired, diffs: diffs.length }, 'reconciliation found differences');
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
    const batch = await db(em).selectFrom('payment').selectAll().where('id', 'in', chunk).execute();
    for (const p of batch) found.set(p.id, p);
  }
  return found;
}
