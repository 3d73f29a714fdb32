import { Counter, Histogram } from 'prom-client';
import { SlidingWindow, computedGauge, consoleGauge, registry, type EntityManager } from '@shop/kit';
import { stockInvariantViolations } from './invariants.js';

/**
 * seed §12.1–12.2. A reservation command that reached a decision (HOLD, or REJECTED for lack of
 * stock) is `decided`; one that failed is `failed`. On /metrics as a counter and a histogram, so
 * Prometheus sums them over replicas (reserve_success_rate and stock_release_lag_sec are recording
 * rules, infra/monitoring/rules.yml); the console shows the same names for this process.
 */
const reserveCommands = new Counter({
  name: 'reserve_commands_total',
  help: 'Reservation commands handled, by outcome (decided: held or rejected for stock; failed: an error)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
const releaseLagSeconds = new Histogram({
  name: 'stock_release_lag_seconds',
  help: 'Seconds from an order cancel to its stock being available again',
  buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
  registers: [registry],
});

const reservations = new SlidingWindow(300_000);
const releaseLag = new SlidingWindow(300_000);

export const recordReservation = (ok: boolean): void => {
  reserveCommands.inc({ outcome: ok ? 'decided' : 'failed' });
  reservations.record(0, ok);
};
/** Seconds between the order's cancel and the stock coming back. */
export const recordReleaseLag = (seconds: number): void => {
  releaseLagSeconds.observe(seconds);
  releaseLag.record(seconds);
};

export function registerInventoryGauges(em: EntityManager): void {
  consoleGauge('reserve_success_rate', 'share of reservation commands decided without error over the last 5 minutes (this process)', () =>
    reservations.successRate(),
  );
  consoleGauge('stock_release_lag_sec', 'p95 seconds from an order cancel to its stock being available again, last 5 minutes (this process)', () =>
    releaseLag.percentile(95),
  );
  let cached = { at: 0, value: 0 };
  computedGauge('oversell_count', 'stock rows breaking available + reserved + sold = on hand or going negative (must be 0)', async () => {
    if (Date.now() - cached.at > 10_000) cached = { at: Date.now(), value: (await stockInvariantViolations(em.fork())).length };
    return cached.value;
  });
}
