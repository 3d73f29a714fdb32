import { Counter, Histogram } from 'prom-client';
import { SlidingWindow, consoleGauge, registry } from '@shop/kit';

/**
 * seed §12.1 on /metrics as a counter and a histogram, so Prometheus sums them over replicas:
 * order_create_qps, order_fail_rate and order_create_p95_ms are recording rules over these
 * (infra/monitoring/rules.yml). The console shows the same names for this process (consoleGauge).
 */
const placed = new Counter({
  name: 'order_create_total',
  help: 'placeOrder calls answered, by outcome (ok: an order was placed or replayed; failed: any error)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
const placeDuration = new Histogram({
  name: 'order_create_duration_seconds',
  help: 'Time to answer placeOrder',
  buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10],
  registers: [registry],
});

const placements = new SlidingWindow(60_000);

export function recordPlacement(startedAt: number, ok: boolean): void {
  const ms = Date.now() - startedAt;
  placed.inc({ outcome: ok ? 'ok' : 'failed' });
  placeDuration.observe(ms / 1000);
  placements.record(ms, ok);
}

consoleGauge('order_create_qps', 'placeOrder calls per second over the last minute (this process)', () => placements.perSecond());
consoleGauge('order_create_p95_ms', 'p95 latency of placeOrder over the last minute, ms (this process)', () => placements.percentile(95));
consoleGauge('order_fail_rate', 'share of placeOrder calls that failed over the last minute (this process)', () => placements.failureRate());
