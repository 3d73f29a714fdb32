import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBroker, eventsExchange, newId, queueName, secret, signPayload, SIGNATURE_HEADER } from '@shop/kit';
import { admin, callSubgraph, errorCode, eventually, user, type GraphQLResponse } from '@shop/kit/testing';
import type { EventPayload, EventType } from '@shop/schema';
import { createSimulator, type RunningSimulator } from '@shop/infra/psp-simulator';
import { PAYMENT_STATUSES, canTransition } from './domain/payment-state.js';
import { start } from './index.js';
import { parseReconcileArgs, reconcileCommand, UsageError } from './reconcile.js';

/** A stand-in for the order subgraph (a peer subgraph, not a mock of our own stores): answers `_entities` for Order. */
interface FakeOrder {
  userId: string;
  status: string;
  payable: { amount: number; currency: string };
  expireAt: string;
}
const orders = new Map<string, FakeOrder>();
const orderServer = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { variables: { r: { id: string }[] } };
    const entities = body.variables.r.map((r) => {
      const order = orders.get(r.id);
      return order ? { __typename: 'Order', id: r.id, ...order } : null;
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { _entities: entities } }));
  });
});

let server: Awaited<ReturnType<typeof start>>;
let simulator: RunningSimulator;
let db: pg.Client;
const broker = connectBroker('payment-test');
const SECRET = secret('PAYMENT_WEBHOOK_SECRET');
const since = new Date(Date.now() - 60_000);

beforeAll(async () => {
  process.env.RECONCILE_INTERVAL_MS = '0';
  await new Promise<void>((resolve) => orderServer.listen(0, '127.0.0.1', resolve));
  process.env.ORDER_URL = `http://127.0.0.1:${(orderServer.address() as AddressInfo).port}/graphql`;
  simulator = await createSimulator({ port: 0, secret: SECRET, retryBaseMs: 50, retryMaxMs: 500, maxAttempts: 5 });
  process.env.PSP_URL = simulator.url;
  server = await start(0);
  process.env.PAYMENT_CALLBACK_URL = `http://127.0.0.1:${server.port}/internal/v1/payment/callback`;
  db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  await db.query('SET search_path = payment');
});
afterAll(async () => {
  await server?.stop();
  await simulator?.stop();
  await db?.end();
  await broker.close();
  await new Promise((resolve) => orderServer.close(resolve));
});

const PAY = `mutation($orderId: ID!) { payOrder(orderId: $orderId) { paymentId redirectUrl amount { amount currency } } }`;
const callbackUrl = () => `http://127.0.0.1:${server.port}/internal/v1/payment/callback`;
const psp = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${simulator.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
};

function newOrder(amount = 37700, status = 'PENDING_PAYMENT') {
  const buyer = user();
  const orderId = newId('ord');
  orders.set(orderId, { userId: buyer.userId, status, payable: { amount, currency: 'CNY' }, expireAt: new Date(Date.now() + 900_000).toISOString() });
  return { buyer, orderId };
}

async function paidSession(amount = 37700) {
  const { buyer, orderId } = newOrder(amount);
  const res = await callSubgraph(server.url, PAY, { orderId }, buyer);
  expect(res.errors).toBeUndefined();
  const session = res.data!.payOrder as { paymentId: string; redirectUrl: string };
  const intentId = session.redirectUrl.split('/checkout/')[1]!;
  const intent = (await psp('GET', `/v1/intents/${intentId}`)).body as { paymentTxnId: string };
  return { buyer, orderId, paymentId: session.paymentId, intentId, paymentTxnId: intent.paymentTxnId };
}

const paymentRow = async (id: string) => (await db.query('SELECT * FROM payment WHERE id = $1', [id])).rows[0];
const outboxCount = async (type: EventType, paymentId: string) =>
  Number((await db.query(`SELECT count(*) AS n FROM outbox WHERE type = $1 AND body->'payload'->>'paymentId' = $2`, [type, paymentId])).rows[0].n);
const statusIs = (id: string, status: string) => eventually(async () => ((await paymentRow(id))?.status === status ? true : undefined));

function postCallback(body: Record<string, unknown>, signature?: string) {
  const raw = JSON.stringify(body);
  return fetch(callbackUrl(), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature === undefined ? { [SIGNATURE_HEADER]: signPayload(SECRET, raw) } : signature ? { [SIGNATURE_HEADER]: signature } : {}),
    },
    body: raw,
  });
}

const callbackBody = (p: { paymentId: string; paymentTxnId: string }, status = 'SUCCEEDED', amount = 37700) => ({
  eventId: `evt_${newId('evt').slice(4)}`,
  paymentTxnId: p.paymentTxnId,
  paymentId: p.paymentId,
  status,
  amount,
  currency: 'CNY',
  occurredAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
});

async function publish<T extends EventType>(type: T, aggregateId: string, payload: EventPayload<T>, eventId = newId('evt')) {
  const envelope = { eventId, type, version: 1, occurredAt: new Date().toISOString(), aggregateId, correlationId: 'payment-test', payload };
  const publisher = broker.createPublisher({ confirm: true });
  await publisher.send({ exchange: eventsExchange(), routingKey: type, contentType: 'application/json' }, envelope);
  await publisher.close();
  return envelope;
}
const queueDrained = () =>
  eventually(async () => {
    const q = await broker.queueDeclare({ queue: queueName('payment', 'order-events'), passive: true });
    return q.messageCount === 0 ? true : undefined;
  });

describe('payment state machine', () => {
  it('allows exactly PENDING -> SUCCEEDED|FAILED and SUCCEEDED -> REFUNDED', () => {
    const allowed = PAYMENT_STATUSES.flatMap((from) => PAYMENT_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}->${to}`));
    expect(allowed).toEqual(['PENDING->SUCCEEDED', 'PENDING->FAILED', 'SUCCEEDED->REFUNDED']);
  });
});

describe('payOrder', () => {
  it("refuses to start a payment after the order's payment deadline", async () => {
    const { buyer, orderId } = newOrder();
    orders.get(orderId)!.expireAt = new Date(Date.now() - 1000).toISOString();
    const res = await callSubgraph(server.url, PAY, { orderId }, buyer);
    expect(errorCode(res)).toBe('ORDER_STATE_INVALID');
    expect(res.errors![0]!.message).toMatch(/deadline/);
    expect((await db.query('SELECT count(*) AS n FROM payment WHERE order_id = $1', [orderId])).rows[0].n).toBe('0');
  });

  it('returns the same session to repeated and concurrent calls: one payment, one intent', async () => {
    const { buyer, orderId } = newOrder();
    const results = await Promise.all([1, 2, 3].map(() => callSubgraph(server.url, PAY, { orderId }, buyer)));
    const again = await callSubgraph(server.url, PAY, { orderId }, buyer);
    const sessions = [...results, again].map((r) => {
      expect(r.errors).toBeUndefined();
      return r.data!.payOrder;
    });
    expect(new Set(sessions.map((s: any) => s.paymentId)).size).toBe(1);
    expect(new Set(sessions.map((s: any) => s.redirectUrl)).size).toBe(1);
    expect(sessions[0]).toMatchObject({ amount: { amount: 37700, currency: 'CNY' } });
    expect(sessions[0].redirectUrl).toContain(`${simulator.url}/checkout/pi_`);
    const rows = await db.query('SELECT id, status FROM payment WHERE order_id = $1', [orderId]);
    expect(rows.rows).toHaveLength(1);
    const ledger = await psp('GET', `/admin/transactions?paymentId=${sessions[0].paymentId}`);
    expect(ledger.body.transactions).toHaveLength(1);
  });

  it('refuses other users, unknown, malformed and unpayable orders, and anonymous callers', async () => {
    const { orderId } = newOrder();
    expect(errorCode(await callSubgraph(server.url, PAY, { orderId }, user()))).toBe('FORBIDDEN');
    expect(errorCode(await callSubgraph(server.url, PAY, { orderId: newId('ord') }, user()))).toBe('BAD_USER_INPUT');
    expect(errorCode(await callSubgraph(server.url, PAY, { orderId: 'ord_1; DROP TABLE payment' }, user()))).toBe('BAD_USER_INPUT');
    expect(errorCode(await callSubgraph(server.url, PAY, { orderId }))).toBe('UNAUTHENTICATED');
    const paid = newOrder(100, 'PAID');
    expect(errorCode(await callSubgraph(server.url, PAY, { orderId: paid.orderId }, paid.buyer))).toBe('ORDER_STATE_INVALID');
  });

  it('keeps the payment PENDING when the provider is down and creates the intent on retry', async () => {
    const { buyer, orderId } = newOrder();
    process.env.PSP_URL = 'http://127.0.0.1:1';
    let failed: GraphQLResponse;
    try {
      failed = await callSubgraph(server.url, PAY, { orderId }, buyer);
    } finally {
      process.env.PSP_URL = simulator.url;
    }
    expect(failed.errors?.length).toBeGreaterThan(0);
    expect(JSON.stringify(failed.errors)).not.toMatch(/ECONNREFUSED|SELECT|at /);
    const [pending] = (await db.query('SELECT * FROM payment WHERE order_id = $1', [orderId])).rows;
    expect(pending).toMatchObject({ status: 'PENDING', checkout_url: null });
    const retried = await callSubgraph(server.url, PAY, { orderId }, buyer);
    expect(retried.errors).toBeUndefined();
    expect(retried.data!.payOrder.paymentId).toBe(pending.id);
  });

  it('extends Order with its latest payment, for the buyer only', async () => {
    const { buyer, orderId, paymentId } = await paidSession();
    const q = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id payment { id status paymentTxnId amount { amount currency } } } } }`;
    const mine = await callSubgraph(server.url, q, { r: [{ __typename: 'Order', id: orderId }] }, buyer);
    expect(mine.data!._entities[0].payment).toMatchObject({ id: paymentId, status: 'PENDING', paymentTxnId: null, amount: { amount: 37700, currency: 'CNY' } });
    const theirs = await callSubgraph(server.url, q, { r: [{ __typename: 'Order', id: orderId }] }, user());
    expect(theirs.data!._entities[0].payment).toBeNull();
  });
});

describe('provider callback', () => {
  it('marks the payment SUCCEEDED when the buyer pays at the provider, and emits payment.succeeded', async () => {
    const p = await paidSession();
    expect((await psp('POST', `/v1/intents/${p.intentId}/pay`)).status).toBe(200);
    await statusIs(p.paymentId, 'SUCCEEDED');
    expect((await paymentRow(p.paymentId)).payment_txn_id).toBe(p.paymentTxnId);
    expect(await outboxCount('payment.succeeded', p.paymentId)).toBe(1);
  });

  it('applies 5 concurrent identical callbacks once', async () => {
    const p = await paidSession();
    const body = callbackBody(p);
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => postCallback(body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const outcomes = await Promise.all(answers.map(async (a) => ((await a.json()) as { outcome: string }).outcome));
    expect(outcomes.filter((o) => o === 'APPLIED')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'DUPLICATE')).toHaveLength(4);
    expect((await paymentRow(p.paymentId)).status).toBe('SUCCEEDED');
    expect(await outboxCount('payment.succeeded', p.paymentId)).toBe(1);
    const audits = await db.query(`SELECT count(*) AS n FROM payment_event WHERE payment_id = $1 AND type = 'STATUS_SUCCEEDED'`, [p.paymentId]);
    expect(audits.rows[0].n).toBe('1');
    // The same transaction result under another eventId is the same fact: still nothing changes.
    expect((await (await postCallback({ ...body, eventId: 'evt_other' })).json()) as object).toMatchObject({ outcome: 'DUPLICATE' });
  });

  it('answers 401 to missing, wrong and stale signatures and writes nothing', async () => {
    const p = await paidSession();
    const body = callbackBody(p);
    const raw = JSON.stringify(body);
    const stale = signPayload(SECRET, raw, Math.floor(Date.now() / 1000) - 301);
    const wrong = signPayload('not-the-secret', raw);
    for (const signature of ['', wrong, stale, 't=abc,v1=zz']) {
      expect((await postCallback(body, signature)).status).toBe(401);
    }
    const recorded = await db.query('SELECT count(*) AS n FROM payment_callback WHERE payment_id = $1', [p.paymentId]);
    expect(recorded.rows[0].n).toBe('0');
    expect((await paymentRow(p.paymentId)).status).toBe('PENDING');
  });

  it('answers 400 to a signed body that is not a callback', async () => {
    const res = await postCallback({ eventId: 'evt_x', status: 'PAID' });
    expect(res.status).toBe(400);
  });

  it('records and flags a callback whose amount does not match, without paying the order', async () => {
    const p = await paidSession();
    const res = await postCallback(callbackBody(p, 'SUCCEEDED', 100));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'FLAGGED' });
    const row = await paymentRow(p.paymentId);
    expect(row.status).toBe('PENDING');
    expect(row.flagged_reason).toMatch(/does not match/);
    expect(await outboxCount('payment.succeeded', p.paymentId)).toBe(0);
    const metrics = await (await fetch(server.url.replace('/graphql', '/metrics'))).text();
    expect(metrics).toMatch(/payment_flagged_total [1-9]/);
    expect(metrics).toContain('payment_callback_delay_seconds_bucket');
  });

  it('marks a payment FAILED on a failure callback and emits payment.failed', async () => {
    const p = await paidSession();
    await psp('POST', `/v1/intents/${p.intentId}/fail`);
    await statusIs(p.paymentId, 'FAILED');
    expect(await outboxCount('payment.failed', p.paymentId)).toBe(1);
  });
});

describe('reconciliation', () => {
  it('repairs a success whose callback the provider dropped, once', async () => {
    const p = await paidSession();
    await psp('POST', '/admin/faults', { mode: 'drop', count: 1 });
    await psp('POST', `/v1/intents/${p.intentId}/pay`);
    await eventually(async () =>
      (await psp('GET', `/admin/callbacks?paymentId=${p.paymentId}`)).body.callbacks.some((c: any) => c.outcome === 'DROPPED') ? true : undefined,
    );
    expect((await paymentRow(p.paymentId)).status).toBe('PENDING');

    const args = ['--from', since.toISOString(), '--to', new Date(Date.now() + 60_000).toISOString()];
    const report = await reconcileCommand(args);
    expect(report.repaired).toContainEqual({ paymentId: p.paymentId, paymentTxnId: p.paymentTxnId, status: 'SUCCEEDED', outcome: 'APPLIED' });
    expect(report.diffs.filter((d) => d.paymentId === p.paymentId)).toEqual([]);
    expect((await paymentRow(p.paymentId)).status).toBe('SUCCEEDED');
    expect(await outboxCount('payment.succeeded', p.paymentId)).toBe(1);
    const replayed = await db.query(`SELECT source FROM payment_callback WHERE payment_id = $1`, [p.paymentId]);
    expect(replayed.rows).toEqual([{ source: 'reconciliation' }]);

    const again = await reconcileCommand(args);
    expect(again.repaired.filter((r) => r.paymentId === p.paymentId)).toEqual([]);
    expect(await outboxCount('payment.succeeded', p.paymentId)).toBe(1);
    const metrics = await (await fetch(server.url.replace('/graphql', '/metrics'))).text();
    expect(metrics).toContain('reconciliation_diff_count');
  });

  it('reports an amount mismatch instead of repairing it', async () => {
    const p = await paidSession();
    await postCallback(callbackBody(p, 'SUCCEEDED', 1));
    await psp('POST', '/admin/faults', { mode: 'drop', count: 1 });
    await psp('POST', `/v1/intents/${p.intentId}/pay`);
    const report = await reconcileCommand(['--from', since.toISOString(), '--to', new Date(Date.now() + 60_000).toISOString()]);
    // The provider's amount is the payment's: the replay reaches the already-recorded (txn, SUCCEEDED) and changes nothing.
    expect(report.diffs.find((d) => d.paymentId === p.paymentId)).toMatchObject({ kind: 'REPAIR_FAILED' });
    expect((await paymentRow(p.paymentId)).status).toBe('PENDING');
    expect(await outboxCount('payment.succeeded', p.paymentId)).toBe(0);
  });
});

describe('reconciliation pairs', () => {
  const window = () => ['--from', since.toISOString(), '--to', new Date(Date.now() + 60_000).toISOString()];
  const dropNext = (count: number) => psp('POST', '/admin/faults', { mode: 'drop', count });
  const droppedFor = (paymentId: string, n: number) =>
    eventually(async () =>
      (await psp('GET', `/admin/callbacks?paymentId=${paymentId}`)).body.callbacks.filter((c: any) => c.outcome === 'DROPPED').length >= n ? true : undefined,
    );

  it('never turns money the provider refunded into a paid order (ours PENDING, provider REFUNDED)', async () => {
    const p = await paidSession();
    await dropNext(2);
    await psp('POST', `/v1/intents/${p.intentId}/pay`);
    await psp('POST', '/v1/refunds', { paymentTxnId: p.paymentTxnId, amount: 37700, refundRef: `ref_${p.paymentId}` });
    await droppedFor(p.paymentId, 2);
    await psp('DELETE', '/admin/faults');
    const report = await reconcileCommand(window());
    expect(report.repaired.filter((r) => r.paymentId === p.paymentId)).toEqual([]);
    expect(report.diffs.filter((d) => d.paymentId === p.paymentId).map((d) => d.kind)).toEqual(['REFUNDED_BEFORE_RECORDED']);
    expect((await paymentRow(p.paymentId)).status).toBe('PENDING');
    expect(await outboxCount('payment.succeeded', p.paymentId)).toBe(0);
  });

  it('reports captured money on a payment we call FAILED (ours FAILED, provider SUCCEEDED)', async () => {
    const p = await paidSession();
    expect((await postCallback(callbackBody(p, 'FAILED'))).status).toBe(200);
    await statusIs(p.paymentId, 'FAILED');
    await dropNext(1);
    await psp('POST', `/v1/intents/${p.intentId}/pay`);
    await droppedFor(p.paymentId, 1);
    const report = await reconcileCommand(window());
    expect(report.diffs.filter((d) => d.paymentId === p.paymentId).map((d) => d.kind)).toEqual(['CAPTURED_BUT_FAILED_HERE']);
    expect((await paymentRow(p.paymentId)).status).toBe('FAILED');
  });

  it('--dry-run lists the repair and changes nothing; the live run then makes it', async () => {
    const p = await paidSession();
    await dropNext(1);
    await psp('POST', `/v1/intents/${p.intentId}/pay`);
    await droppedFor(p.paymentId, 1);
    const dry = await reconcileCommand([...window(), '--dry-run']);
    expect(dry.dryRun).toBe(true);
    expect(dry.planned).toContainEqual({ paymentId: p.paymentId, paymentTxnId: p.paymentTxnId, status: 'SUCCEEDED' });
    expect(dry.repaired).toEqual([]);
    expect((await paymentRow(p.paymentId)).status).toBe('PENDING');
    const live = await reconcileCommand(window());
    expect(live.repaired).toContainEqual({ paymentId: p.paymentId, paymentTxnId: p.paymentTxnId, status: 'SUCCEEDED', outcome: 'APPLIED' });
    expect((await paymentRow(p.paymentId)).status).toBe('SUCCEEDED');
  });

  it('parses its command line strictly: unknown flags, stray words and bad dates are refused with the usage', () => {
    expect(() => parseReconcileArgs(['--form', '2026-01-01T00:00:00Z'])).toThrow(/Unknown option '--form'[\s\S]*usage/);
    expect(() => parseReconcileArgs(['stray'])).toThrow(UsageError);
    expect(() => parseReconcileArgs(['--from', 'yesterday'])).toThrow(/--from must be an ISO-8601 timestamp/);
    expect(() => parseReconcileArgs(['--from', '2026-02-01T00:00:00Z', '--to', '2026-01-01T00:00:00Z'])).toThrow(/--from must not be after --to/);
    expect(parseReconcileArgs(['--dry-run', '--from', '2026-01-01T00:00:00Z'])).toMatchObject({
      dryRun: true,
      help: false,
      from: new Date('2026-01-01T00:00:00Z'),
    });
    expect(parseReconcileArgs(['-h']).help).toBe(true);
  });

  it('the command prints --help and exits 2 on an unknown flag, touching nothing', async () => {
    const { execFile } = await import('node:child_process');
    const run = (...args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          ['subgraphs/payment/dist/reconcile.js', ...args],
          { env: { ...process.env, PSP_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'error' } },
          (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
        );
      });
    const [help, unknown] = await Promise.all([run('--help'), run('--live', '--form', 'x')]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--dry-run/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option[\s\S]*usage/);
  }, 60_000);
});

describe('operator cases', () => {
  const gauge = async (name: string) => {
    const text = await (await fetch(server.url.replace('/graphql', '/metrics'))).text();
    return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
  };

  it('marks a PENDING payment whose order was canceled, and counts abandoned and flagged payments', async () => {
    const p = await paidSession();
    await publish('order.status-changed', p.orderId, {
      orderId: p.orderId,
      userId: p.buyer.userId,
      from: 'PENDING_PAYMENT',
      to: 'CANCELED',
      reason: 'PAYMENT_TIMEOUT',
      version: 3,
    });
    await eventually(async () => ((await paymentRow(p.paymentId)).order_closed_at ? true : undefined));
    expect((await paymentRow(p.paymentId)).status).toBe('PENDING');
    await db.query(`UPDATE payment SET order_closed_at = now() - interval '2 hours' WHERE id = $1`, [p.paymentId]);
    expect(await gauge('payment_abandoned_pending')).toBeGreaterThanOrEqual(1);

    const flagged = await paidSession();
    await postCallback(callbackBody(flagged, 'SUCCEEDED', 1));
    await eventually(async () => ((await paymentRow(flagged.paymentId)).flagged_reason ? true : undefined));
    expect(await gauge('payment_flagged_open')).toBeGreaterThanOrEqual(1);
  });
});

describe('reconciliation from the operations console', () => {
  const RECONCILE = `mutation($from: DateTime!, $to: DateTime!) { reconcilePayments(from: $from, to: $to) {
    providerTransactions repaired { paymentId status outcome } diffs { kind paymentId providerStatus providerAmount { amount } ourStatus ourAmount { amount } } } }`;

  it('runs for admins only and shows the repairs with their kind', async () => {
    const p = await paidSession();
    await psp('POST', '/admin/faults', { mode: 'drop', count: 1 });
    await psp('POST', `/v1/intents/${p.intentId}/pay`);
    await eventually(async () =>
      (await psp('GET', `/admin/callbacks?paymentId=${p.paymentId}`)).body.callbacks.some((c: any) => c.outcome === 'DROPPED') ? true : undefined,
    );
    const window = { from: since.toISOString(), to: new Date(Date.now() + 60_000).toISOString() };
    expect(errorCode(await callSubgraph(server.url, RECONCILE, window, user()))).toBe('FORBIDDEN');
    expect(errorCode(await callSubgraph(server.url, RECONCILE, { from: window.to, to: window.from }, admin()))).toBe('BAD_USER_INPUT');
    const res = await callSubgraph(server.url, RECONCILE, window, admin());
    expect(res.errors).toBeUndefined();
    expect(res.data!.reconcilePayments.providerTransactions).toBeGreaterThan(0);
    expect(res.data!.reconcilePayments.repaired).toContainEqual({ paymentId: p.paymentId, status: 'SUCCEEDED', outcome: 'APPLIED' });
    expect((await paymentRow(p.paymentId)).status).toBe('SUCCEEDED');

    const metrics = await callSubgraph(server.url, `{ paymentMetrics { name value } }`, {}, admin());
    expect(metrics.data!.paymentMetrics.map((m: any) => m.name)).toEqual([
      'payment_callback_delay_p95',
      'saga_compensation_count',
      'reconciliation_diff_count',
    ]);
  });
});

describe('refunds', () => {
  it('refunds a payment the order rejected (compensation), once, also on redelivery', async () => {
    const p = await paidSession();
    await psp('POST', `/v1/intents/${p.intentId}/pay`);
    await statusIs(p.paymentId, 'SUCCEEDED');
    const envelope = await publish('order.payment-rejected', p.orderId, {
      orderId: p.orderId,
      paymentId: p.paymentId,
      reason: 'order was canceled (PAYMENT_TIMEOUT)',
    });
    await statusIs(p.paymentId, 'REFUNDED');
    const txn = await psp('GET', `/admin/transactions/${p.paymentTxnId}`);
    expect(txn.body).toMatchObject({ status: 'REFUNDED', refunded: 37700 });
    expect(await outboxCount('payment.refunded', p.paymentId)).toBe(1);
    const [event] = (await db.query(`SELECT body FROM outbox WHERE type = 'payment.refunded' AND body->'payload'->>'paymentId' = $1`, [p.paymentId])).rows;
    expect(event.body.payload).toMatchObject({ refundId: null, orderId: p.orderId, amount: { amount: 37700, currency: 'CNY' } });

    await publish('order.payment-rejected', p.orderId, envelope.payload, envelope.eventId);
    await publish('order.payment-rejected', p.orderId, envelope.payload);
    await queueDrained();
    // The provider confirms the refund with a REFUNDED callback: recorded, nothing changes.
    await eventually(
      async () =>
        (await db.query(`SELECT outcome FROM payment_callback WHERE payment_id = $1 AND status = 'REFUNDED'`, [p.paymentId])).rows[0]?.outcome ?? undefined,
    );
    expect(await outboxCount('payment.refunded', p.paymentId)).toBe(1);
    expect((await psp('GET', `/admin/transactions/${p.paymentTxnId}`)).body.refunds).toHaveLength(1);
    const audit = await db.query(`SELECT type FROM payment_event WHERE payment_id = $1 ORDER BY id`, [p.paymentId]);
    expect(audit.rows.map((r) => r.type)).toEqual(['CREATED', 'INTENT_CREATED', 'STATUS_SUCCEEDED', 'REFUND_SUCCEEDED', 'STATUS_REFUNDED']);
  });

  it('executes an after-sale refund the order requested and answers with its refundId', async () => {
    const p = await paidSession();
    await psp('POST', `/v1/intents/${p.intentId}/pay`);
    await statusIs(p.paymentId, 'SUCCEEDED');
    const refundId = newId('rfd');
    await publish('order.refund-requested', p.orderId, {
      refundId,
      orderId: p.orderId,
      amount: { amount: 10000, currency: 'CNY' },
      reason: 'damaged item',
      restock: false,
    });
    const event = await eventually(
      async () => (await db.query(`SELECT body FROM outbox WHERE type = 'payment.refunded' AND body->'payload'->>'refundId' = $1`, [refundId])).rows[0],
    );
    expect(event.body.payload).toMatchObject({ refundId, paymentId: p.paymentId, amount: { amount: 10000, currency: 'CNY' } });
    expect((await paymentRow(p.paymentId)).status).toBe('SUCCEEDED');
    expect((await psp('GET', `/admin/transactions/${p.paymentTxnId}`)).body.refunded).toBe(10000);

    const tooMuch = newId('rfd');
    await publish('order.refund-requested', p.orderId, {
      refundId: tooMuch,
      orderId: p.orderId,
      amount: { amount: 37700, currency: 'CNY' },
      reason: 'again',
      restock: false,
    });
    const failed = await eventually(
      async () => (await db.query(`SELECT body FROM outbox WHERE type = 'payment.refund-failed' AND body->'payload'->>'refundId' = $1`, [tooMuch])).rows[0],
    );
    expect(failed.body.payload.error).toMatch(/exceeds/);
  });
});
