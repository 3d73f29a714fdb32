import { Gauge, Registry } from 'prom-client';
import { registry } from './metrics.js';

/**
 * The operations console's figures of one process (order_create_p95_ms, reserve_success_rate, ...
 * over a sliding window), read by readMetrics (ops-metrics.ts) and never served at /metrics: a
 * per-process percentile or rate cannot be combined across replicas. Prometheus computes the same
 * names across replicas from the histograms and counters on /metrics, with the recording rules of
 * infra/monitoring/rules.yml.
 */
export const consoleRegistry = new Registry();

/** Samples over a sliding time window, for the console's per-process figures (consoleGauge). */
export class SlidingWindow {
  private samples: { at: number; value: number; ok: boolean }[] = [];

  constructor(private readonly windowMs = 60_000) {}

  record(value: number, ok = true, now = Date.now()): void {
    this.samples.push({ at: now, value, ok });
    this.prune(now);
  }

  private prune(now: number): void {
    const from = now - this.windowMs;
    let drop = 0;
    while (drop < this.samples.length && this.samples[drop]!.at < from) drop += 1;
    if (drop > 0) this.samples.splice(0, drop);
  }

  perSecond(now = Date.now()): number {
    this.prune(now);
    return this.samples.length / (this.windowMs / 1000);
  }

  /** Share of samples that failed, 0 when there were none. */
  failureRate(now = Date.now()): number {
    this.prune(now);
    return this.samples.length === 0 ? 0 : this.samples.filter((s) => !s.ok).length / this.samples.length;
  }

  successRate(now = Date.now()): number {
    this.prune(now);
    return this.samples.length === 0 ? 1 : this.samples.filter((s) => s.ok).length / this.samples.length;
  }

  percentile(p: number, now = Date.now()): number {
    this.prune(now);
    if (this.samples.length === 0) return 0;
    const sorted = this.samples.map((s) => s.value).sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  }
}

/** A gauge whose value is computed when Prometheus scrapes (a state: a count of rows, a backlog). */
export function computedGauge(name: string, help: string, compute: () => number | Promise<number>, registers: Registry[] = [registry]): Gauge {
  return new Gauge({
    name,
    help,
    registers,
    async collect() {
      this.set(await compute());
    },
  });
}

/** A figure of this process for the operations console only (consoleRegistry), computed when read. */
export const consoleGauge = (name: string, help: string, compute: () => number | Promise<number>): Gauge =>
  computedGauge(name, help, compute, [consoleRegistry]);
