import { SlidingWindow, consoleGauge } from '@shop/kit';
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '@shop/kit';

/** Seconds from the provider's occurredAt to our durable record (seed-design §12.2). */
export const callbackDelay = new Histogram({
  name: 'payment_callback_delay_seconds',
  help: 'Delay between a payment callback occurring at the provider and being recorded',
  buckets: [0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
  registers: [registry],
});

export const callbackOutcomes = new Counter({
  name: 'payment_callbacks_total',
  help: 'Payment callbacks handled, by source and outcome',
  labelNames: ['source', 'outcome'] as const,
  registers: [registry],
});

export const flaggedPayments = new Counter({
  name: 'payment_flagged_total',
  help: 'Payments flagged for reconciliation (amount or currency mismatch, unexpected callbacks)',
  registers: [registry],
});

/** Compensations started by the payment subgraph (refunds of payments an order could not take). */
export const sagaCompensations = new Counter({
  name: 'saga_compensation_count',
  help: 'Saga compensations executed: payments refunded because their order could not take them',
  registers: [registry],
});

export const reconciliationDiffs = new Gauge({
  name: 'reconciliation_diff_count',
  help: 'Differences between the provider ledger and our payments left after the last reconciliation run',
  registers: [registry],
});

/**
 * seed §12.2: payment_callback_delay_p95 (seconds; alert above 60 s) is a recording rule over
 * payment_callback_delay_seconds (infra/monitoring/rules.yml); the console shows this process's.
 */
export const callbackDelayWindow = new SlidingWindow(600_000);
consoleGauge('payment_callback_delay_p95', 'p95 of provider callback delay over the last 10 minutes, seconds (this process)', () =>
  callbackDelayWindow.percentile(95),
);
