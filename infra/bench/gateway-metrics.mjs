// The gateway's own figures, read from its Prometheus endpoint: resident memory and heap (prom-client's
// default process metrics) and the graphql-ws gauges.
const NAMES = {
  rss: 'process_resident_memory_bytes',
  heapUsed: 'nodejs_heap_size_used_bytes',
  external: 'nodejs_external_memory_bytes',
  connections: 'graphql_ws_connections',
  subscriptions: 'graphql_ws_subscriptions',
};

/** @returns {Promise<{ rss: number, heapUsed: number, external: number, connections: number, subscriptions: number }>} */
export async function readGatewayMetrics(metricsUrl) {
  // With METRICS_TOKEN set, /metrics answers only to it (README "Security in production").
  const headers = process.env.METRICS_TOKEN ? { authorization: `Bearer ${process.env.METRICS_TOKEN}` } : {};
  const text = await (await fetch(metricsUrl, { headers, signal: AbortSignal.timeout(10_000) })).text();
  const values = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [name, value] = line.split(' ');
    for (const [key, metric] of Object.entries(NAMES)) if (name === metric) values[key] = Number(value);
  }
  for (const [key, metric] of Object.entries(NAMES)) if (values[key] === undefined) throw new Error(`the gateway's /metrics has no ${metric}`);
  return values;
}

/**
 * Polls until `gauge` equals `expected`, or no change for `idleMs`. Returns the last reading and
 * whether the value was reached.
 */
export async function waitForGauge(metricsUrl, gauge, expected, { idleMs = 15_000, shouldStop = () => false } = {}) {
  let last;
  let changedAt = Date.now();
  for (;;) {
    const reading = await readGatewayMetrics(metricsUrl);
    if (reading[gauge] === expected) return { reached: true, reading };
    if (!last || last[gauge] !== reading[gauge]) changedAt = Date.now();
    last = reading;
    if (Date.now() - changedAt > idleMs || shouldStop()) return { reached: false, reading };
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
