import { SlidingWindow, computedGauge, type EntityManager } from '@shop/kit';
import { stockInvariantViolations } from './invariants.js';

/**
 * seed §12.1–12.2. reserve_success_rate counts reservation commands that reached a decision
 * (HOLD or REJECTED for lack of stock are both decisions) against those that failed.
 */
const reservations = new SlidingWindow(300_000);
const releaseLag = new SlidingWindow(300_000);

export const recordReservation = (ok: boolean): void => reservations.record(0, ok);
/** Seconds between the order's cancel and the stock coming back. */
export const recordReleaseLag = (seconds: number): void => releaseLag.record(seconds);

export function registerInventoryGauges(em: EntityManager): void {
  computedGauge('reserve_success_rate', 'share of reservation commands decided without error over the last 5 minutes', () => reservations.successRate());
  computedGauge('stock_release_lag_sec', 'p95 seconds from an order cancel to its stock being available again, last 5 minutes', () =>
    releaseLag.percentile(95),
  );
  let cached = { at: 0, value: 0 };
  computedGauge('oversell_count', 'stock rows breaking available + reserved + sold = on hand or going negative (must be 0)', async () => {
    if (Date.now() - cached.at > 10_000) cached = { at: Date.now(), value: (await stockInvariantViolations(em.fork())).length };
    return cached.value;
  });
}
