import { describe, expect, it } from 'vitest';
import { SlidingWindow } from './windowed-metrics.js';

describe('sliding window', () => {
  it('computes rate, failure rate and percentiles over the window only', () => {
    const w = new SlidingWindow(10_000);
    for (let i = 1; i <= 100; i++) w.record(i, i % 10 !== 0, 1_000);
    expect(w.perSecond(5_000)).toBe(10);
    expect(w.failureRate(5_000)).toBeCloseTo(0.1);
    expect(w.percentile(95, 5_000)).toBe(95);
    expect(w.percentile(50, 5_000)).toBe(50);
    expect(w.perSecond(11_001)).toBe(0);
    expect(w.successRate(11_001)).toBe(1);
  });
});
