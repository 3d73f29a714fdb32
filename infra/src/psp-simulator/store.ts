import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DeliveryAttempt, OutboundEvent, Refund, Transaction } from './types.js';

const MAX_ATTEMPTS_KEPT = 10_000;

interface PersistedState {
  version: 1;
  transactions: Transaction[];
  events: OutboundEvent[];
}

/**
 * The simulator's storage: in memory, optionally mirrored to a JSON file (PSP_STATE_FILE) after
 * every change, so a restarted simulator keeps its ledger and resumes undelivered callbacks.
 * Node runs one request handler at a time, so each synchronous method is atomic.
 */
export class Store {
  private readonly byIntent = new Map<string, Transaction>();
  private readonly byPaymentId = new Map<string, Transaction>();
  private readonly byTxn = new Map<string, Transaction>();
  private readonly byRefundRef = new Map<string, Refund>();
  private readonly events = new Map<string, OutboundEvent>();
  private readonly attempts: DeliveryAttempt[] = [];

  constructor(private readonly stateFile?: string) {
    if (stateFile && existsSync(stateFile)) this.load(stateFile);
  }

  private load(file: string): void {
    const state = JSON.parse(readFileSync(file, 'utf8')) as PersistedState;
    for (const txn of state.transactions ?? []) this.index(txn);
    for (const event of state.events ?? []) this.events.set(event.body.eventId, event);
  }

  private index(txn: Transaction): void {
    this.byIntent.set(txn.intentId, txn);
    this.byPaymentId.set(txn.paymentId, txn);
    this.byTxn.set(txn.paymentTxnId, txn);
    for (const refund of txn.refunds) this.byRefundRef.set(refund.refundRef, refund);
  }

  /** Writes the whole state to the file (atomically, via rename); a no-op without a file. */
  save(): void {
    if (!this.stateFile) return;
    const state: PersistedState = { version: 1, transactions: [...this.byIntent.values()], events: [...this.events.values()] };
    mkdirSync(dirname(this.stateFile), { recursive: true });
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, this.stateFile);
  }

  insertTransaction(txn: Transaction): void {
    this.index(txn);
    this.save();
  }

  insertRefund(txn: Transaction, refund: Refund): void {
    txn.refunds.push(refund);
    this.byRefundRef.set(refund.refundRef, refund);
  }

  transactionByIntent = (intentId: string): Transaction | undefined => this.byIntent.get(intentId);
  transactionByPaymentId = (paymentId: string): Transaction | undefined => this.byPaymentId.get(paymentId);
  transactionByTxn = (paymentTxnId: string): Transaction | undefined => this.byTxn.get(paymentTxnId);
  refundByRef = (refundRef: string): Refund | undefined => this.byRefundRef.get(refundRef);
  transactions = (): Transaction[] => [...this.byIntent.values()];

  insertEvent(event: OutboundEvent): void {
    this.events.set(event.body.eventId, event);
  }

  event = (eventId: string): OutboundEvent | undefined => this.events.get(eventId);
  allEvents = (): OutboundEvent[] => [...this.events.values()];
  pendingEvents = (): OutboundEvent[] => this.allEvents().filter((e) => e.state === 'PENDING');

  recordAttempt(attempt: DeliveryAttempt): void {
    this.attempts.push(attempt);
    if (this.attempts.length > MAX_ATTEMPTS_KEPT) this.attempts.splice(0, this.attempts.length - MAX_ATTEMPTS_KEPT);
  }

  deliveryAttempts = (): DeliveryAttempt[] => [...this.attempts];
}
