import { randomUUID } from 'node:crypto';
import type { Delivery } from './delivery.js';
import type { Store } from './store.js';
import type { CallbackStatus, OutboundEvent, Refund, Transaction, TxnStatus } from './types.js';
import { HttpError } from './validation.js';

/** Provider-side ids: a type prefix and 32 hex characters (the provider's own, not the shop's). */
export const pspId = (prefix: 'pi' | 'txn' | 'evt' | 're'): string => `${prefix}_${randomUUID().replaceAll('-', '')}`;

const now = (): string => new Date().toISOString();
/** ISO 8601 UTC to the second, as in CONTRACT.md ("2026-11-24T10:00:00Z"). */
const occurredAt = (): string => now().replace(/\.\d{3}Z$/, 'Z');

export interface CreateIntentInput {
  merchantRef: string;
  orderId: string;
  amount: number;
  currency: string;
  callbackUrl: string;
  returnUrl?: string;
}

export interface RefundInput {
  paymentTxnId: string;
  amount: number;
  refundRef: string;
  currency?: string;
}

export interface LedgerFilter {
  from?: number;
  to?: number;
  status?: TxnStatus;
  paymentId?: string;
}

/** The provider's books: intents, their single transaction each, refunds, and the callbacks they cause. */
export class Ledger {
  constructor(
    private readonly store: Store,
    private readonly delivery: Delivery,
    private readonly publicUrl: string,
  ) {}

  checkoutUrl = (txn: Transaction): string => `${this.publicUrl}/checkout/${txn.intentId}`;

  intentView(txn: Transaction) {
    return {
      intentId: txn.intentId,
      paymentTxnId: txn.paymentTxnId,
      merchantRef: txn.paymentId,
      orderId: txn.orderId,
      amount: txn.amount,
      currency: txn.currency,
      status: txn.status,
      checkoutUrl: this.checkoutUrl(txn),
      ...(txn.returnUrl ? { returnUrl: txn.returnUrl } : {}),
      createdAt: txn.createdAt,
      updatedAt: txn.updatedAt,
    };
  }

  transactionView(txn: Transaction) {
    const { callbackUrl: _callbackUrl, returnUrl: _returnUrl, ...rest } = txn;
    const events = this.eventsOf(txn.paymentTxnId).map((e) => ({
      eventId: e.body.eventId,
      status: e.body.status,
      delivery: e.state,
      occurredAt: e.body.occurredAt,
    }));
    return { ...rest, refunded: refundedAmount(txn), events };
  }

  /** Idempotent on merchantRef: a repeat returns the same intent; a different amount, currency or order is a 409. */
  createIntent(input: CreateIntentInput): { txn: Transaction; created: boolean } {
    const existing = this.store.transactionByPaymentId(input.merchantRef);
    if (existing) {
      for (const field of ['amount', 'currency', 'orderId'] as const) {
        if (existing[field] !== input[field]) {
          throw new HttpError(
            409,
            `merchantRef ${input.merchantRef} already has intent ${existing.intentId} with ${field} ${String(existing[field])}, not ${String(input[field])}`,
          );
        }
      }
      return { txn: existing, created: false };
    }
    const at = now();
    const txn: Transaction = {
      intentId: pspId('pi'),
      paymentTxnId: pspId('txn'),
      paymentId: input.merchantRef,
      orderId: input.orderId,
      amount: input.amount,
      currency: input.currency,
      status: 'PENDING',
      callbackUrl: input.callbackUrl,
      ...(input.returnUrl ? { returnUrl: input.returnUrl } : {}),
      createdAt: at,
      updatedAt: at,
      refunds: [],
    };
    this.store.insertTransaction(txn);
    return { txn, created: true };
  }

  intent(intentId: string): Transaction {
    const txn = this.store.transactionByIntent(intentId);
    if (!txn) throw new HttpError(404, `no intent ${intentId}`);
    return txn;
  }

  /**
   * Records the payer's result and sends the callback. A decided intent is final: paying a paid
   * intent (or failing a failed one) changes nothing; the opposite result is a 409.
   */
  settle(intentId: string, result: 'SUCCEEDED' | 'FAILED'): { txn: Transaction; changed: boolean } {
    const txn = this.intent(intentId);
    if (txn.status === 'PENDING') {
      txn.status = result;
      txn.updatedAt = now();
      this.emit(txn, result, txn.amount);
      return { txn, changed: true };
    }
    const settledAs = txn.status === 'REFUNDED' ? 'SUCCEEDED' : txn.status;
    if (settledAs === result) return { txn, changed: false };
    throw new HttpError(409, `intent ${intentId} is already ${txn.status}`);
  }

  /** Idempotent on refundRef; refuses (422) more than captured minus already refunded. */
  refund(input: RefundInput): { refund: Refund; txn: Transaction; created: boolean } {
    const txn = this.store.transactionByTxn(input.paymentTxnId);
    if (!txn) throw new HttpError(404, `no transaction ${input.paymentTxnId}`);
    const existing = this.store.refundByRef(input.refundRef);
    if (existing) {
      if (existing.paymentTxnId !== input.paymentTxnId || existing.amount !== input.amount) {
        throw new HttpError(409, `refundRef ${input.refundRef} was already used for ${existing.amount} on ${existing.paymentTxnId}`);
      }
      return { refund: existing, txn, created: false };
    }
    if (input.currency !== undefined && input.currency !== txn.currency) {
      throw new HttpError(422, `currency ${input.currency} does not match the transaction's ${txn.currency}`);
    }
    if (txn.status !== 'SUCCEEDED' && txn.status !== 'REFUNDED') {
      throw new HttpError(422, `transaction ${txn.paymentTxnId} is ${txn.status}: only a captured (SUCCEEDED) payment can be refunded`);
    }
    const refundable = txn.amount - refundedAmount(txn);
    if (input.amount > refundable) {
      throw new HttpError(
        422,
        `refund of ${input.amount} exceeds the refundable amount ${refundable} (captured ${txn.amount}, already refunded ${refundedAmount(txn)})`,
      );
    }
    const refund: Refund = {
      refundId: pspId('re'),
      refundRef: input.refundRef,
      paymentTxnId: txn.paymentTxnId,
      amount: input.amount,
      currency: txn.currency,
      status: 'SUCCEEDED',
      createdAt: now(),
    };
    this.store.insertRefund(txn, refund);
    txn.updatedAt = refund.createdAt;
    if (refundedAmount(txn) === txn.amount) {
      txn.status = 'REFUNDED';
      this.emit(txn, 'REFUNDED', txn.amount);
    } else {
      this.store.save();
    }
    return { refund, txn, created: true };
  }

  /** Transactions whose life [createdAt, updatedAt] overlaps [from, to] (both optional), oldest first. */
  list(filter: LedgerFilter): Transaction[] {
    return this.store
      .transactions()
      .filter((t) => filter.to === undefined || Date.parse(t.createdAt) <= filter.to)
      .filter((t) => filter.from === undefined || Date.parse(t.updatedAt) >= filter.from)
      .filter((t) => filter.status === undefined || t.status === filter.status)
      .filter((t) => filter.paymentId === undefined || t.paymentId === filter.paymentId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Sends an already-recorded callback again (same eventId), e.g. after a drop, for manual repair. */
  redeliver(eventId: string): OutboundEvent {
    const event = this.store.event(eventId);
    if (!event) throw new HttpError(404, `no callback event ${eventId}`);
    event.state = 'PENDING';
    this.store.save();
    this.delivery.resend(event);
    return event;
  }

  private eventsOf(paymentTxnId: string): OutboundEvent[] {
    return this.store.allEvents().filter((e) => e.body.paymentTxnId === paymentTxnId);
  }

  private emit(txn: Transaction, status: CallbackStatus, amount: number): void {
    const event: OutboundEvent = {
      body: {
        eventId: pspId('evt'),
        paymentTxnId: txn.paymentTxnId,
        paymentId: txn.paymentId,
        status,
        amount,
        currency: txn.currency,
        occurredAt: occurredAt(),
      },
      callbackUrl: txn.callbackUrl,
      state: 'PENDING',
    };
    this.store.insertEvent(event);
    this.store.save();
    this.delivery.dispatch(event);
  }
}

export const refundedAmount = (txn: Transaction): number => txn.refunds.reduce((sum, r) => sum + r.amount, 0);
