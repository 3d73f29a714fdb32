// npm run bench:subscriptions: N graphql-ws clients subscribed to orderStatusChanged at the gateway of the
// whole built system (real processes, a database of its own); measures the gateway's memory per
// connection, subscribe -> first message latency, and, while orders are canceled at a fixed rate, the
// cancel -> CANCELED push latency of every (client, event) pair, missing/duplicate pushes and pushes/s.
// Plain Node ESM; needs `turbo run build` first (the npm script does it). Options: see subscription-options.mjs.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { driveCancels } from './cancels.mjs';
import { waitForSettle } from './database.mjs';
import { mib, readGatewayMetrics, waitForGauge } from './gateway-metrics.mjs';
import { gatewayReady, mintClientToken, runBenchmark, say, saySummary, seconds, SetupError } from './harness.mjs';
import { Latencies, ms } from './stats.mjs';
import { readOptions, USAGE } from './subscription-options.mjs';
import { placeOrders } from './subscription-setup.mjs';
import { SubscriberPool } from './subscribers.mjs';

/** Open files this process and the gateway need besides one per client (stack pipes, pools, logs). */
const FD_HEADROOM = 512;
/** After every expected push arrived: how long to keep listening for duplicates. */
const DUPLICATE_GRACE_MS = 2000;

const sleep = (msValue) => new Promise((r) => setTimeout(r, msValue));

// A stray rejection (a socket failing while the stack stops) is reported, never a reason to skip the clean-up.
process.on('unhandledRejection', (reason) => say(`unhandled rejection: ${reason?.message ?? reason?.type ?? reason}`));

/** The soft and hard limits on open files of this process (the stack's processes inherit them). */
function openFileLimits() {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line?.match(/(\d+|unlimited)\s+(\d+|unlimited)/) ?? []).slice(1).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return { soft: soft ?? Infinity, hard: hard ?? Infinity };
}

function ephemeralPorts() {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return { low, high, count: high - low + 1 };
  } catch {
    return undefined;
  }
}

/** Before anything starts: enough open files and ephemeral ports for one socket per client. */
function preflight(options) {
  const files = openFileLimits();
  const needFiles = options.clients + FD_HEADROOM;
  if (files.soft < needFiles) {
    say(
      `ulimit -n is ${files.soft}: ${options.clients} clients need at least ${needFiles} open files, in this process and in the gateway (one socket per client each).`,
    );
    say(
      files.hard >= needFiles
        ? `Raise it in this shell first: ulimit -n ${needFiles}   (the hard limit is ${files.hard}), or run with fewer --clients.`
        : `The hard limit is ${files.hard}: raise it as root (e.g. /etc/security/limits.conf nofile, or docker run --ulimit nofile=${needFiles}), then ulimit -n ${needFiles}; or run with fewer --clients.`,
    );
    return { exitCode: 1 };
  }
  const ports = ephemeralPorts();
  if (ports && ports.count < options.clients + 1000) {
    say(
      `the ephemeral port range ${ports.low}-${ports.high} (${ports.count} ports) is too small for ${options.clients} sockets to one gateway port; widen net.ipv4.ip_local_port_range or run with fewer --clients.`,
    );
    return { exitCode: 1 };
  }
  return {
    machine: [
      ['open files (ulimit -n soft / hard)', `${files.soft} / ${files.hard}`],
      ['ephemeral ports', ports ? `${ports.low}-${ports.high}` : 'unknown'],
    ],
  };
}

function parameters(options) {
  const perOrder = `${Math.floor(options.clients / options.orders)}${options.clients % options.orders ? `-${Math.ceil(options.clients / options.orders)}` : ''}`;
  return [
    ['clients (one WebSocket, one subscription each)', options.clients],
    ['orders', `${options.orders} (${perOrder} subscribers each; each subscriber uses its order owner's token)`],
    ['cancel rate', `${options.rate} cancels/s`],
    ['connect concurrency', options.connectConcurrency],
    ['drain timeout', `${options.drainTimeoutS} s`],
  ];
}

/** Everything after the stack is ready: orders, clients, the cancels, the pairing of pushes and the summary. */
async function run({ options, stack, reader, runId, logs, machine, interrupted, onCleanup }) {
  const metricsUrl = `http://127.0.0.1:${stack.ports.gateway}/metrics`;

  // ---- set-up: M orders, PENDING_PAYMENT, every status event already published ----
  const adminToken = await mintClientToken({ userId: `bench-admin-${runId}`, roles: ['admin'] });
  const setupStarted = performance.now();
  let lastShown = 0;
  const { orders } = await placeOrders({
    url: stack.gatewayUrl,
    adminToken,
    runId,
    orders: options.orders,
    mintToken: (userId) => mintClientToken({ userId, roles: [] }),
    onProgress: (placed) => {
      if (placed - lastShown >= Math.max(50, options.orders / 4) || placed === options.orders) {
        lastShown = placed;
        say(`  placed ${placed}/${options.orders} orders`);
      }
    },
  }).catch((error) => {
    throw new SetupError(error.message);
  });
  if (interrupted()) return 130;
  const settled = await waitForSettle(reader);
  if (settled.ms === undefined)
    throw new SetupError(`orders did not settle: ${settled.created} still CREATED, ${settled.outbox} outbox rows unpublished after 30 s`);
  say(`set up: ${orders.length} PENDING_PAYMENT orders in ${seconds(performance.now() - setupStarted)}, outbox drained`);
  say();

  // ---- connect and subscribe ----
  await sleep(1000);
  const before = await readGatewayMetrics(metricsUrl);
  say(`gateway before connecting: RSS ${mib(before.rss)}, heap used ${mib(before.heapUsed)}, ${before.connections} ws connections`);
  say(`opening ${options.clients} clients, ${options.connectConcurrency} at a time...`);
  const pool = new SubscriberPool({ wsUrl: stack.wsUrl, orders });
  onCleanup(() => pool.closeAll());
  const connectCpu = process.cpuUsage();
  const opening = await pool.open({
    count: options.clients,
    concurrency: options.connectConcurrency,
    shouldStop: interrupted,
    onProgress: (p) =>
      say(
        `[${p.elapsedS.toFixed(0).padStart(3)} s] subscribed ${String(p.subscribed).padStart(String(options.clients).length)}/${options.clients}  failed ${p.failed}  ${p.rate.toFixed(0).padStart(5)} subscribes/s`,
      ),
  });
  const connectCpuMs = cpuMs(process.cpuUsage(connectCpu));
  if (interrupted()) return 130;
  const gauge = await waitForGauge(metricsUrl, 'subscriptions', pool.subscribed, { shouldStop: interrupted });
  const peak = gauge.reading;
  say(
    `subscribed ${pool.subscribed}/${options.clients} in ${seconds(opening.wallMs)}${pool.failures.total ? ` (failed: ${pool.failures})` : ''}; ` +
      `gateway gauges: ${peak.connections} connections, ${peak.subscriptions} subscriptions${gauge.reached ? '' : ' (NOT equal to the clients subscribed)'}; RSS ${mib(peak.rss)}`,
  );
  say();

  // ---- events: cancel every order at the fixed rate ----
  say(`canceling ${orders.length} orders at ${options.rate}/s...`);
  const eventCpu = process.cpuUsage();
  const eventsBegan = performance.now();
  let cancels;
  const counters = { sent: 0, answered: 0 };
  const progress = setInterval(() => {
    if (interrupted()) return;
    const width = String(orders.length).length;
    say(
      `[${((performance.now() - eventsBegan) / 1000).toFixed(0).padStart(3)} s] cancels sent ${String(counters.sent).padStart(width)}/${orders.length}  answered ${String(counters.answered).padStart(width)}  ` +
        `CANCELED pushes received ${String(pool.canceledPushes).padStart(String(pool.subscribed).length)}/${pool.subscribed}`,
    );
  }, 1000);
  try {
    cancels = await driveCancels({ url: stack.gatewayUrl, orders, rate: options.rate, runId, counters, shouldStop: interrupted });
    if (interrupted()) return 130;
    const expected = pool.subscribers.filter((s) => s?.firstAt !== undefined && cancels.sends[s.order]?.ok).length;
    // Wait for the rest: until every expected push is in, or no new push for the drain timeout.
    let lastCount = -1;
    let lastChange = performance.now();
    while (!interrupted() && pool.canceledPushes < expected && performance.now() - lastChange < options.drainTimeoutS * 1000) {
      if (pool.canceledPushes !== lastCount) {
        lastCount = pool.canceledPushes;
        lastChange = performance.now();
      }
      await sleep(100);
    }
    await sleep(DUPLICATE_GRACE_MS);
  } finally {
    clearInterval(progress);
  }
  if (interrupted()) return 130;
  const eventCpuMs = cpuMs(process.cpuUsage(eventCpu));
  const afterEvents = await readGatewayMetrics(metricsUrl);

  // ---- results ----
  const result = analyse(pool, cancels);
  const ready = await gatewayReady(stack);

  say('closing the clients...');
  pool.closeAll();
  const closed = await waitForGauge(metricsUrl, 'connections', 0, { idleMs: 10_000 });
  const afterClose = closed.reading;

  printSummary({
    options,
    machine,
    pool,
    opening,
    before,
    peak,
    gaugeReached: gauge.reached,
    afterEvents,
    afterClose,
    closedAll: closed.reached,
    cancels,
    result,
    ready,
    connectCpuMs,
    eventCpuMs,
  });

  const problems = [];
  if (!ready) problems.push('gateway not ready at the end');
  if (pool.failures.total) problems.push(`${pool.failures.total} clients could not subscribe`);
  if (!gauge.reached) problems.push('graphql_ws_subscriptions never equalled the clients subscribed');
  if (cancels.errors.total) problems.push(`${cancels.errors.total} cancels failed`);
  if (result.missing) problems.push(`${result.missing} pushes missing`);
  if (result.duplicates) problems.push(`${result.duplicates} duplicate pushes`);
  if (result.unexpected) problems.push(`${result.unexpected} unexpected pushes`);
  if (pool.drops.total) problems.push(`${pool.drops.total} subscriptions dropped`);
  say(problems.length ? `\nRESULT: FAILED (${problems.join('; ')}); logs in ${logs}` : '\nRESULT: every subscriber got exactly one CANCELED push');
  return problems.length ? 1 : 0;
}

const cpuMs = (usage) => (usage.user + usage.system) / 1000;

/** Pairs every subscriber with the cancel of its order: latency, missing, duplicates, throughput. */
function analyse(pool, cancels) {
  const eventLatency = new Latencies();
  const firstMessage = new Latencies();
  const connectAck = new Latencies();
  const ackToFirst = new Latencies();
  let expected = 0;
  let missing = 0;
  let duplicates = 0;
  let unexpected = 0;
  let lastReceipt = -Infinity;
  for (const s of pool.subscribers) {
    if (!s || s.firstAt === undefined) continue;
    firstMessage.add(s.firstAt - s.startedAt);
    if (s.connectedAt !== undefined) {
      connectAck.add(s.connectedAt - s.startedAt);
      ackToFirst.add(s.firstAt - s.connectedAt);
    }
    const send = cancels.sends[s.order];
    unexpected += s.otherPushes;
    if (!send?.ok) {
      unexpected += s.canceledAt.length;
      continue;
    }
    expected += 1;
    if (s.canceledAt.length === 0) {
      missing += 1;
      continue;
    }
    duplicates += s.canceledAt.length - 1;
    eventLatency.add(s.canceledAt[0] - send.sentAt);
    lastReceipt = Math.max(lastReceipt, s.canceledAt[0]);
  }
  const received = expected - missing;
  const windowMs = lastReceipt - cancels.firstSentAt;
  return {
    eventLatency: eventLatency.summary(),
    firstMessage: firstMessage.summary(),
    connectAck: connectAck.summary(),
    ackToFirst: ackToFirst.summary(),
    expected,
    received,
    missing,
    duplicates,
    unexpected,
    windowMs,
    lastAfterLastCancelMs: lastReceipt - cancels.lastSentAt,
  };
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const quad = (s) => `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)} / ${ms(s.max)}`;

function printSummary({
  options,
  machine,
  pool,
  opening,
  before,
  peak,
  gaugeReached,
  afterEvents,
  afterClose,
  closedAll,
  cancels,
  result,
  ready,
  connectCpuMs,
  eventCpuMs,
}) {
  const n = pool.subscribed;
  const cancelLatency = cancels.latency.summary();
  const answered = cancels.sends.filter((s) => s?.ok).length;
  const rows = [
    ['machine', undefined],
    ...machine.filter(([k]) => k === 'CPUs' || k === 'Node' || k.startsWith('load average') || k.startsWith('open files')),
    ['load average (1 min) at the end', os.loadavg()[0].toFixed(2)],
    ['parameters', undefined],
    ['clients / orders', `${options.clients} / ${options.orders}`],
    ['cancel rate (target)', `${options.rate} /s`],
    ['connect concurrency', String(options.connectConcurrency)],
    ['connections', undefined],
    ['clients subscribed', `${n}/${options.clients}${pool.failures.total ? `  failed: ${pool.failures}` : ''}`],
    ['connect + subscribe wall time', `${seconds(opening.wallMs)} (${((n / opening.wallMs) * 1000).toFixed(0)} subscribes/s)`],
    [
      'gateway gauges when subscribed',
      `${peak.connections} connections, ${peak.subscriptions} subscriptions${gaugeReached ? ' (= clients subscribed)' : ' (NOT = clients subscribed)'}`,
    ],
    ['socket open + connection_ack p50 / p95 / p99 / max', quad(result.connectAck)],
    ['first message (subscribe -> initial state) p50 / p95 / p99 / max', quad(result.firstMessage)],
    ['  of which ack -> first message p50 / p95', `${ms(result.ackToFirst.p50)} / ${ms(result.ackToFirst.p95)}`],
    ['gateway memory', undefined],
    ['RSS before connecting', `${mib(before.rss)}  (heap used ${mib(before.heapUsed)})`],
    ['RSS with all clients subscribed', `${mib(peak.rss)}  (heap used ${mib(peak.heapUsed)})`],
    ['RSS per connection', n ? `${kib((peak.rss - before.rss) / n)}  ((after - before) / ${n})` : 'n/a'],
    ['heap used per connection', n ? kib((peak.heapUsed - before.heapUsed) / n) : 'n/a'],
    [
      'RSS after the events / after closing',
      `${mib(afterEvents.rss)} / ${mib(afterClose.rss)}  (heap used ${mib(afterEvents.heapUsed)} / ${mib(afterClose.heapUsed)})${closedAll ? '' : `, ${afterClose.connections} connections still open`}`,
    ],
    ['events', undefined],
    [
      'cancels sent / CANCELED / failed',
      `${cancels.sends.filter(Boolean).length} / ${answered} / ${cancels.errors.total}${cancels.errors.total ? ` (${cancels.errors})` : ''}`,
    ],
    ['cancel rate achieved', `${((answered / cancels.wallMs) * 1000).toFixed(1)} /s over ${seconds(cancels.wallMs)} (max ${cancels.maxInFlight} in flight)`],
    ['cancelOrder response p50 / p95 / p99 / max', quad(cancelLatency)],
    ['pushes expected / received', `${result.expected} / ${result.received}`],
    ['missing / duplicate / unexpected', `${result.missing} / ${result.duplicates} / ${result.unexpected}`],
    ['subscriptions dropped', pool.drops.total ? `${pool.drops.total}: ${pool.drops}` : '0'],
    ['event -> client p50 / p95 / p99 / max', `${quad(result.eventLatency)}  (${result.eventLatency.count} client-event pairs)`],
    [
      'delivery throughput',
      result.received
        ? `${((result.received / result.windowMs) * 1000).toFixed(0)} pushes/s (first cancel sent -> last push, ${seconds(result.windowMs)}; offered ${((options.rate * n) / options.orders).toFixed(0)}/s)`
        : 'n/a',
    ],
    ['last push after the last cancel', result.received ? ms(result.lastAfterLastCancelMs) : 'n/a'],
    ['load generator', undefined],
    ['CPU connecting / during events', `${seconds(connectCpuMs)} (${((connectCpuMs / opening.wallMs) * 100).toFixed(0)}% of a core) / ${seconds(eventCpuMs)}`],
    ['gateway ready at the end', ready ? 'yes' : 'NO'],
  ];
  saySummary(rows);
}

await runBenchmark({
  title: 'shop subscription benchmark',
  usage: USAGE,
  readOptions: () => {
    try {
      return readOptions();
    } catch (error) {
      throw new SetupError(`${error.message} (see --help)`);
    }
  },
  preflight,
  parameters,
  stopping: 'closing the clients, stopping the stack and dropping the database',
  failureCode: 1,
  run,
});
