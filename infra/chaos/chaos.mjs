// `npm run chaos`: orders, payments and refunds under load while every subgraph is killed (SIGKILL)
// and restarted, RabbitMQ restarts, PostgreSQL restarts, and the payment simulator drops, delays and
// duplicates callbacks; then the invariants. Everything runs on private servers on loopback
// (servers.mjs) and a stack on free ports; nothing of a developer's services is touched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startStack } from '../scripts/stack.mjs';
import { SUBGRAPHS } from '../scripts/processes.mjs';
import { gql } from '../bench/gateway-client.mjs';
import { startPostgres, startRabbit } from './servers.mjs';
import { checkInvariants } from './invariants.mjs';

const USAGE = `usage: npm run chaos -- [--load-seconds <n>] [--workers <n>] [--keep]

Starts a private PostgreSQL and RabbitMQ (temporary directories, free loopback ports) and the whole
system on free ports, runs buyers (place, pay, some refund) while it injects, one after the other:
callback faults at the payment simulator (drop, delay, duplicate), SIGKILL + restart of each
subgraph, a RabbitMQ restart and a PostgreSQL restart. Then it waits for the system to settle and
checks the invariants; exit code 0 when all hold.

  --load-seconds <n>  how long the buyers run (default 60; the faults fit inside it)
  --workers <n>       concurrent buyers (default 4)
  --keep              keep the temporary directory (server and process logs)
  -h, --help          this text`;

let opts;
try {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    allowPositionals: false,
    options: { 'load-seconds': { type: 'string' }, workers: { type: 'string' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  const int = (name, fallback, min, max) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    return n;
  };
  opts = { help: values.help === true, loadSeconds: int('load-seconds', 60, 20, 600), workers: int('workers', 4, 1, 32), keep: values.keep === true };
} catch (error) {
  process.stderr.write(`${error.message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (opts.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

process.env.LOG_LEVEL ??= 'error';
process.env.STACK_LOG_LEVEL ??= 'warn';
const { mintClientToken } = await import('../../subgraphs/kit/dist/index.js');
const say = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const at = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`;

const id = randomBytes(3).toString('hex');
const base = mkdtempSync(`${tmpdir()}/shop-chaos-`);
const cleanups = [];
let exitCode = 1;
// Bounded: whatever happens, the run ends and cleans up.
const hardLimit = setTimeout(
  () => {
    say(`chaos run exceeded its time limit; cleaning up`);
    void cleanup().then(() => process.exit(1));
  },
  (opts.loadSeconds + 420) * 1000,
);
hardLimit.unref();
let cleaning;
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) await fn().catch((e) => say(`cleanup: ${e.message}`));
    if (!opts.keep) rmSync(base, { recursive: true, force: true });
    else say(`kept ${base}`);
  })());
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  say(`${at()}  private PostgreSQL and RabbitMQ in ${base}`);
  const postgres = await startPostgres(base);
  cleanups.push(() => postgres.stop());
  const rabbit = await startRabbit(base, id);
  cleanups.push(() => rabbit.stop());
  const databaseUrl = `${postgres.url}/shop_chaos`;
  say(`${at()}  PostgreSQL on :${postgres.port}, RabbitMQ ${rabbit.node} on :${rabbit.port}; starting the stack`);
  const stack = await startStack({
    databaseUrl,
    runId: `chaos${id}`,
    logDir: `${base}/logs`,
    env: {
      AMQP_URL: rabbit.url,
      LOG_LEVEL: 'warn',
      RECONCILE_INTERVAL_MS: '10000',
      RECONCILE_WINDOW_MS: '3600000',
      PSP_RETRY_BASE_MS: '300',
      PSP_RETRY_MAX_MS: '3000',
      LIVENESS_WEDGE_MS: '20000',
    },
  });
  cleanups.push(() => stack.stop());
  const url = stack.gatewayUrl;
  const admin = await mintClientToken({ userId: `chaos-admin-${id}`, roles: ['admin'] });
  for (const rule of ['ip-velocity', 'user-velocity', 'device-velocity']) {
    await gql(url, `mutation($id: ID!) { setRiskRule(id: $id, enabled: false) { id } }`, { id: rule }, admin);
  }

  // The catalog: two SKUs over two warehouses, with enough stock that refusals are rare.
  const created = await gql(
    url,
    `mutation($i: CreateProductInput!) { createProduct(input: $i) { skus { id } } }`,
    {
      i: {
        title: `Chaos ${id}`,
        description: 'chaos run',
        skus: [1, 2].map((n) => ({ title: `chaos-${n}`, price: 1000 * n, currency: 'CNY', flashSale: false })),
      },
    },
    admin,
  );
  if (created.errors) throw new Error(`createProduct: ${JSON.stringify(created.errors)}`);
  const skuIds = created.data.createProduct.skus.map((s) => s.id);
  const onHand = new Map();
  for (const skuId of skuIds) {
    for (const warehouseId of ['wh-a', 'wh-b']) {
      const set = await gql(
        url,
        `mutation($s: ID!, $w: ID!, $n: Int!) { setStock(skuId: $s, warehouseId: $w, onHand: $n) { id } }`,
        { s: skuId, w: warehouseId, n: 400 },
        admin,
      );
      if (set.errors) throw new Error(`setStock: ${JSON.stringify(set.errors)}`);
      onHand.set(`${skuId}|${warehouseId}`, 400);
    }
  }

  // Buyers: place an order, pay it on the simulator's page, and ask for a refund of one in four.
  const answered = new Map(); // orderId → { paid: boolean, refundAsked: boolean }
  const tally = { attempts: 0, placed: 0, errors: 0, paid: 0, refunds: 0 };
  let loading = true;
  const buyer = async (w) => {
    for (let n = 0; loading; n++) {
      tally.attempts += 1;
      const token = await mintClientToken({ userId: `chaos-${id}-${w}-${n}`, roles: [] });
      const skuId = skuIds[n % skuIds.length];
      const preview = await gql(url, `mutation($s: ID!) { previewOrder(input: { items: [{ skuId: $s, qty: 1 }] }) { previewId } }`, { s: skuId }, token);
      const previewId = preview.data?.previewOrder?.previewId;
      if (!previewId) {
        tally.errors += 1;
        await sleep(300);
        continue;
      }
      const placed = await gql(
        url,
        `mutation($p: ID!, $k: String!) { placeOrder(input: { previewId: $p, clientReqId: $k }) { order { id status } } }`,
        { p: previewId, k: `chaos-${w}-${n}` },
        token,
      );
      const order = placed.data?.placeOrder?.order;
      if (!order) {
        tally.errors += 1;
        await sleep(300);
        continue;
      }
      tally.placed += 1;
      const record = { paid: false, refundAsked: false };
      answered.set(order.id, record);
      if (n % 5 === 4) continue; // some stay unpaid
      const session = await gql(url, `mutation($id: ID!) { payOrder(orderId: $id) { redirectUrl } }`, { id: order.id }, token);
      const redirect = session.data?.payOrder?.redirectUrl;
      if (!redirect) continue;
      const pressed = await fetch(`${redirect}/pay`, { method: 'POST', redirect: 'manual' }).catch(() => undefined);
      if (!pressed || pressed.status >= 400) continue;
      record.paid = true;
      tally.paid += 1;
      if (n % 4 !== 1) continue;
      for (let i = 0; i < 20 && loading; i++) {
        const status = (await gql(url, `query($id: ID!) { order(id: $id) { status } }`, { id: order.id }, token)).data?.order?.status;
        if (status === 'PAID') {
          const refund = await gql(url, `mutation($id: ID!) { requestRefund(orderId: $id, reason: "chaos") { status } }`, { id: order.id }, token);
          if (refund.data) {
            record.refundAsked = true;
            tally.refunds += 1;
          }
          break;
        }
        await sleep(500);
      }
    }
  };
  const buyers = Array.from({ length: opts.workers }, (_, w) => buyer(w));

  // The faults, one after the other, inside the load window.
  const faults = [];
  const psp = (body) => fetch(`${stack.pspUrl}/admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const fault = async (name, action) => {
    const started = Date.now();
    await action();
    faults.push({ name, ms: Date.now() - started });
    say(`${at()}  fault: ${name}`);
  };
  const gap = Math.max(1500, Math.floor((opts.loadSeconds * 1000) / 14));
  await sleep(gap);
  await fault('payment callbacks dropped (3)', () => psp({ mode: 'drop', count: 3 }));
  await sleep(gap);
  await fault('payment callbacks delayed 4 s (3)', () => psp({ mode: 'delay', delayMs: 4000, count: 3 }));
  await sleep(gap);
  await fault('payment callbacks duplicated ×3 (3)', () => psp({ mode: 'duplicate', duplicates: 3, count: 3 }));
  for (const name of SUBGRAPHS) {
    await sleep(gap / 2);
    await fault(`${name} SIGKILL + restart`, async () => {
      await stack.kill(name);
      stack.launch(name);
    });
  }
  await sleep(gap);
  await fault('RabbitMQ restart', () => rabbit.restart());
  await sleep(gap);
  await fault('PostgreSQL restart', () => postgres.restart());
  const lastFault = Date.now();
  // Every process ready again, measured from the last fault while orders keep flowing.
  const readyz = Object.fromEntries([...SUBGRAPHS, 'gateway'].map((name) => [name, `http://127.0.0.1:${stack.ports[name]}/readyz`]));
  const notReady = async () => {
    const states = await Promise.all(
      Object.entries(readyz).map(async ([name, u]) => [
        name,
        await fetch(u).then(
          (r) => r.ok,
          () => false,
        ),
      ]),
    );
    return states.filter(([, ok]) => !ok).map(([name]) => name);
  };
  const readiness = (async () => {
    let waiting = await notReady();
    while (waiting.length > 0 && Date.now() - lastFault < 60_000) {
      await sleep(250);
      waiting = await notReady();
    }
    return { waiting, readyAfterMs: Date.now() - lastFault };
  })();
  // Orders keep flowing while the system recovers from the last fault.
  const remaining = Math.max(10_000, t0 + opts.loadSeconds * 1000 - Date.now());
  await sleep(remaining);
  loading = false;
  await Promise.all(buyers);
  say(`${at()}  load stopped: ${tally.placed} orders placed of ${tally.attempts} attempts, ${tally.paid} paid, ${tally.refunds} refunds asked`);
  const { waiting, readyAfterMs } = await readiness;

  // A new order placed and paid after the faults.
  const fresh = await (async () => {
    const token = await mintClientToken({ userId: `chaos-${id}-after`, roles: [] });
    const preview = await gql(url, `mutation($s: ID!) { previewOrder(input: { items: [{ skuId: $s, qty: 1 }] }) { previewId } }`, { s: skuIds[0] }, token);
    const placed = await gql(
      url,
      `mutation($p: ID!) { placeOrder(input: { previewId: $p, clientReqId: "after-chaos" }) { order { id } } }`,
      { p: preview.data?.previewOrder?.previewId },
      token,
    );
    const orderId = placed.data?.placeOrder?.order?.id;
    if (!orderId) return { ok: false, detail: JSON.stringify(placed.errors ?? preview.errors).slice(0, 200) };
    answered.set(orderId, { paid: true, refundAsked: false });
    const session = await gql(url, `mutation($id: ID!) { payOrder(orderId: $id) { redirectUrl } }`, { id: orderId }, token);
    await fetch(`${session.data?.payOrder?.redirectUrl}/pay`, { method: 'POST', redirect: 'manual' }).catch(() => undefined);
    for (let i = 0; i < 120; i++) {
      const status = (await gql(url, `query($id: ID!) { order(id: $id) { status } }`, { id: orderId }, token)).data?.order?.status;
      if (status === 'PAID') return { ok: true, detail: `${orderId} PAID ${((Date.now() - lastFault) / 1000).toFixed(1)} s after the last fault` };
      await sleep(250);
    }
    return { ok: false, detail: `${orderId} not PAID within 30 s` };
  })();

  // Settle (late callbacks, reconciliation every 10 s, broker-held retries), then check.
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  cleanups.push(() => db.end());
  let checks;
  const settleDeadline = Date.now() + 150_000;
  for (;;) {
    checks = await checkInvariants({ db, rabbit, pspUrl: stack.pspUrl, onHand, answered, readyAfterMs, notReady: waiting, fresh });
    if (checks.every((c) => c.ok) || Date.now() > settleDeadline) break;
    await sleep(2000);
  }

  say('');
  say(`faults survived (${faults.length}):`);
  for (const f of faults) say(`  ✓ ${f.name}${f.ms > 1000 ? ` (${(f.ms / 1000).toFixed(1)} s)` : ''}`);
  say('');
  say('invariants:');
  for (const c of checks) say(`  ${c.ok ? '✓' : '✗'} ${c.label}: ${c.detail}`);
  say('');
  say(
    `figures: ${tally.placed} orders, ${tally.paid} paid, ${tally.refunds} refunds asked, ${tally.errors} client errors during faults, every process ready ${(readyAfterMs / 1000).toFixed(1)} s after the last fault, run ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
  exitCode = checks.every((c) => c.ok) ? 0 : 1;
  say(exitCode === 0 ? 'CHAOS RUN PASSED' : 'CHAOS RUN FAILED');
} catch (error) {
  say(`chaos run could not complete: ${error.stack ?? error}`);
  exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(hardLimit);
}
process.exit(exitCode);
