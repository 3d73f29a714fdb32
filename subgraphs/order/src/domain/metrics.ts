import { SlidingWindow, computedGauge } from '@shop/kit';

/** seed §12.1: order creation rate, latency and failure rate over the last minute. */
const placements = new SlidingWindow(60_000);

export function recordPlacement(startedAt: number, ok: boolean): void {
  placements.record(Date.now() - startedAt, ok);
}

computedGauge('order_create_qps', 'placeOrder calls per second over the last minute', () => placements.perSecond());
computedGauge('order_create_p95_ms', 'p95 latency of placeOrder over the last minute, ms', () => placements.percentile(95));
computedGauge('order_fail_rate', 'share of placeOrder calls that failed over the last minute', () => placements.failureRate());
