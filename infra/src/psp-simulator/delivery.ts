import type { Logger } from '@shop/kit';
import type { Faults } from './faults.js';
import { SIGNATURE_HEADER, signPayload } from './signature.js';
import type { Store } from './store.js';
import type { DeliveryAttempt, OutboundEvent } from './types.js';

export interface DeliveryOptions {
  store: Store;
  faults: Faults;
  secret: string;
  log: Logger;
  /** First retry delay; doubles each attempt (0.5 s, 1 s, 2 s, ...). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Attempts per copy before giving up (reconciliation then repairs the order). */
  maxAttempts: number;
  /** Per-attempt HTTP timeout. */
  timeoutMs: number;
}

/** Sends signed callbacks at least once, with exponential backoff until the receiver answers 2xx. */
export class Delivery {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private stopped = false;

  constructor(private readonly o: DeliveryOptions) {}

  /** Hands a new callback to delivery, applying the current fault injection. */
  dispatch(event: OutboundEvent): void {
    const decision = this.o.faults.next();
    if (decision.kind === 'drop') {
      event.state = 'DROPPED';
      this.o.store.save();
      this.record(event, 1, 0, { outcome: 'DROPPED' });
      return;
    }
    for (let copy = 1; copy <= decision.copies; copy++) this.schedule(event, copy, 1, decision.delayMs);
  }

  /** Sends a recorded callback again, bypassing fault injection. */
  resend(event: OutboundEvent): void {
    this.schedule(event, 1, 1, 0);
  }

  /** After a restart with a state file: sends the callbacks that were never acknowledged. */
  resume(): void {
    for (const event of this.o.store.pendingEvents()) this.schedule(event, 1, 1, 0);
  }

  backoffMs(attempt: number): number {
    return Math.min(this.o.retryBaseMs * 2 ** (attempt - 1), this.o.retryMaxMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
  }

  private schedule(event: OutboundEvent, copy: number, attempt: number, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(event, copy, attempt);
    }, delayMs);
    this.timers.add(timer);
  }

  private async attempt(event: OutboundEvent, copy: number, attempt: number): Promise<void> {
    if (this.stopped) return;
    const raw = JSON.stringify(event.body);
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(new Error(`no answer within ${this.o.timeoutMs} ms`)), this.o.timeoutMs);
    this.inFlight.add(controller);
    let httpStatus: number | undefined;
    let error: string | undefined;
    try {
      const response = await fetch(event.callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signPayload(this.o.secret, raw) },
        body: raw,
        redirect: 'manual',
        signal: controller.signal,
      });
      httpStatus = response.status;
      await response.arrayBuffer().catch(() => undefined);
    } catch (e) {
      error = e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e);
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
    if (this.stopped) return;

    if (httpStatus !== undefined && httpStatus >= 200 && httpStatus < 300) {
      event.state = 'DELIVERED';
      this.o.store.save();
      this.record(event, copy, attempt, { outcome: 'DELIVERED', httpStatus });
    } else if (attempt >= this.o.maxAttempts) {
      if (event.state === 'PENDING') {
        event.state = 'EXHAUSTED';
        this.o.store.save();
      }
      this.record(event, copy, attempt, { outcome: 'GAVE_UP', httpStatus, error });
    } else {
      const nextRetryInMs = this.backoffMs(attempt);
      this.record(event, copy, attempt, { outcome: 'FAILED', httpStatus, error, nextRetryInMs });
      this.schedule(event, copy, attempt + 1, nextRetryInMs);
    }
  }

  private record(
    event: OutboundEvent,
    copy: number,
    attempt: number,
    result: Pick<DeliveryAttempt, 'outcome' | 'httpStatus' | 'error' | 'nextRetryInMs'>,
  ): void {
    const { eventId, paymentTxnId, paymentId, status } = event.body;
    const entry: DeliveryAttempt = { eventId, paymentTxnId, paymentId, status, copy, attempt, url: event.callbackUrl, ...result, at: new Date().toISOString() };
    for (const key of ['httpStatus', 'error', 'nextRetryInMs'] as const) if (entry[key] === undefined) delete entry[key];
    this.o.store.recordAttempt(entry);
    const level = result.outcome === 'GAVE_UP' ? 'warn' : 'info';
    this.o.log[level]({ callback: entry }, `callback ${result.outcome.toLowerCase()}`);
  }
}
