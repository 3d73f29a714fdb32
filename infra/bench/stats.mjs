// Latency figures and the plain-text table the benchmark prints.

/** Nearest-rank percentile of an ascending array (p in 0..100); NaN when empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Collects durations in milliseconds of one kind of call. */
export class Latencies {
  #values = [];
  add(ms) {
    this.#values.push(ms);
  }
  get count() {
    return this.#values.length;
  }
  values() {
    return this.#values;
  }
  summary() {
    const sorted = [...this.#values].sort((a, b) => a - b);
    const mean = sorted.length ? sorted.reduce((s, v) => s + v, 0) / sorted.length : Number.NaN;
    return {
      count: sorted.length,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? Number.NaN,
      mean,
    };
  }
}

/** Counts by key (error codes, statuses). */
export class Tally {
  #counts = new Map();
  add(key, n = 1) {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + n);
  }
  get(key) {
    return this.#counts.get(key) ?? 0;
  }
  entries() {
    return this.#counts.entries();
  }
  get total() {
    let sum = 0;
    for (const n of this.#counts.values()) sum += n;
    return sum;
  }
  /** "CODE_A 12, CODE_B 3" or "none". */
  toString() {
    const entries = [...this.#counts.entries()].sort((a, b) => b[1] - a[1]);
    return entries.length ? entries.map(([k, n]) => `${k} ${n}`).join(', ') : 'none';
  }
}

export const ms = (value) => (Number.isNaN(value) ? 'n/a' : `${value.toFixed(1)} ms`);

/** Two-column table: a title, then "label  value" rows; a row with no value is a sub-heading. */
export function table(title, rows) {
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [title, '-'.repeat(Math.max(title.length, 40))];
  for (const [label, value] of rows) lines.push(value === undefined ? `\n${label}` : `${label.padEnd(width)}  ${value}`);
  return lines.join('\n');
}
