import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/kit/testing';
import { createSimulator, type RunningSimulator } from './server.js';
import { verifySignature } from './signature.js';
import { api, freshPaymentId, startReceiver, type Receiver } from './test-helpers.js';

const SECRET = 'psp-test-secret';
let sim: RunningSimulator;
let receiver: Receiver;
let psp: ReturnType<typeof api>;

beforeAll(async () => {
  receiver = await startReceiver();
  sim = await createSimulator({ port: 0, secret: SECRET, retryBaseMs: 20 });
  psp = api(sim.url);
});
afterEach(async () => {
  await psp.delete('/admin/faults');
});
afterAll(async () => {
  await sim?.stop();
  await receiver?.close();
});

async function newIntent(amount = 37700, extra: Record<string, unknown> = {}) {
  const paymentId = freshPaymentId();
  const res = await psp.post('/v1/intents', {
    merchantRef: paymentId,
    orderId: `ord_${paymentId}`,
    amount,
    currency: 'CNY',
    callbackUrl: receiver.url,
    ...extra,
  });
  expect(res.status).toBe(201);
  return { paymentId, intent: res.body };
}

const callbacksOf = (paymentId: string, n: number) =>
  eventually(async () => (receiver.forPayment(paymentId).length >= n ? receiver.forPayment(paymentId) : undefined));
const attemptsOf = async (paymentTxnId: string) => (await psp.get(`/admin/callbacks?paymentTxnId=${paymentTxnId}`)).body.callbacks as any[];

describe('intents', () => {
  it('creates a PENDING intent with a checkout URL', async () => {
    const { paymentId, intent } = await newIntent();
    expect(intent).toMatchObject({ merchantRef: paymentId, amount: 37700, currency: 'CNY', status: 'PENDING' });
    expect(intent.intentId).toMatch(/^pi_[0-9a-f]{32}$/);
    expect(intent.paymentTxnId).toMatch(/^txn_[0-9a-f]{32}$/);
    expect(intent.checkoutUrl).toBe(`${sim.url}/checkout/${intent.intentId}`);
    expect((await psp.get(`/v1/intents/${intent.intentId}`)).body.status).toBe('PENDING');
  });

  it('is idempotent on merchantRef; a different amount is a 409', async () => {
    const { paymentId, intent } = await newIntent();
    const again = await psp.post('/v1/intents', {
      merchantRef: paymentId,
      orderId: `ord_${paymentId}`,
      amount: 37700,
      currency: 'CNY',
      callbackUrl: receiver.url,
    });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.intentId).toBe(intent.intentId);
    expect(again.body.paymentTxnId).toBe(intent.paymentTxnId);
    const conflict = await psp.post('/v1/intents', {
      merchantRef: paymentId,
      orderId: `ord_${paymentId}`,
      amount: 37701,
      currency: 'CNY',
      callbackUrl: receiver.url,
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatch(/amount/);
  });

  it('answers bad input with 400 and what was expected', async () => {
    const valid = { merchantRef: freshPaymentId(), orderId: 'ord_x', amount: 100, currency: 'CNY', callbackUrl: receiver.url };
    const cases: [unknown, RegExp][] = [
      ['{not json', /not valid JSON/],
      [[1, 2], /JSON object/],
      [{ ...valid, merchantRef: undefined }, /merchantRef is required/],
      [{ ...valid, amount: 1.5 }, /amount must be a positive integer/],
      [{ ...valid, amount: 0 }, /amount must be a positive integer/],
      [{ ...valid, amount: '100' }, /amount must be a positive integer/],
      [{ ...valid, currency: 'cny' }, /currency must be an ISO 4217/],
      [{ ...valid, callbackUrl: 'ftp://x' }, /callbackUrl must be an absolute http/],
      [{ ...valid, returnUrl: 'javascript:alert(1)' }, /returnUrl must be an absolute http/],
    ];
    for (const [body, message] of cases) {
      const res = await psp.post('/v1/intents', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toMatch(message);
    }
    expect((await psp.post('/v1/intents/pi_nope/pay')).status).toBe(404);
    expect((await psp.post('/admin/faults', { mode: 'explode' })).status).toBe(400);
    expect((await psp.post('/admin/faults', { mode: 'delay' })).body.error).toMatch(/delayMs is required/);
    expect((await psp.post('/admin/faults', { mode: 'duplicate', duplicates: 0 })).status).toBe(400);
    expect((await psp.get('/admin/transactions?from=yesterday')).body.error).toMatch(/from must be an ISO 8601/);
    expect((await psp.get('/admin/transactions?status=PAID')).status).toBe(400);
    expect((await psp.post('/v1/refunds', { paymentTxnId: 'txn_x', amount: -1, refundRef: 'r' })).status).toBe(400);
  });
});

describe('callbacks', () => {
  it('pays and delivers the exact contract body with a valid signature', async () => {
    const { paymentId, intent } = await newIntent();
    const paid = await psp.post(`/v1/intents/${intent.intentId}/pay`);
    expect(paid.body).toMatchObject({ status: 'SUCCEEDED', changed: true });

    const [callback] = await callbacksOf(paymentId, 1);
    expect(callback!.headers['content-type']).toBe('application/json');
    const signature = callback!.headers['payment-signature'] as string;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, callback!.raw, signature, Math.floor(Date.now() / 1000))).toMatchObject({ ok: true });
    expect(Object.keys(callback!.body).sort()).toEqual(['amount', 'currency', 'eventId', 'occurredAt', 'paymentId', 'paymentTxnId', 'status']);
    expect(callback!.body).toMatchObject({ paymentTxnId: intent.paymentTxnId, paymentId, status: 'SUCCEEDED', amount: 37700, currency: 'CNY' });
    expect(callback!.body.eventId).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(callback!.body.occurredAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    // Paying again changes nothing and causes no new callback event.
    const again = await psp.post(`/v1/intents/${intent.intentId}/pay`);
    expect(again.body).toMatchObject({ status: 'SUCCEEDED', changed: false });
    expect((await psp.post(`/v1/intents/${intent.intentId}/fail`)).status).toBe(409);
    const txn = (await psp.get(`/admin/transactions/${intent.paymentTxnId}`)).body;
    expect(txn.events).toHaveLength(1);
    expect(txn.events[0]).toMatchObject({ eventId: callback!.body.eventId, delivery: 'DELIVERED' });
  });

  it('sends FAILED when the payer fails', async () => {
    const { paymentId, intent } = await newIntent();
    expect((await psp.post(`/v1/intents/${intent.intentId}/fail`)).body.status).toBe('FAILED');
    const [callback] = await callbacksOf(paymentId, 1);
    expect(callback!.body).toMatchObject({ status: 'FAILED', paymentTxnId: intent.paymentTxnId, amount: 37700 });
  });

  it('retries with backoff until 2xx, re-sending the same eventId', async () => {
    const { paymentId, intent } = await newIntent();
    receiver.failFirst(paymentId, 2);
    await psp.post(`/v1/intents/${intent.intentId}/pay`);
    const received = await callbacksOf(paymentId, 3);
    const attempts = await eventually(async () => {
      const rows = await attemptsOf(intent.paymentTxnId);
      return rows.some((r) => r.outcome === 'DELIVERED') ? rows : undefined;
    });
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.body.eventId)).size).toBe(1);
    expect(new Set(received.map((r) => r.raw)).size).toBe(1);
    for (const r of received) expect(verifySignature(SECRET, r.raw, r.headers['payment-signature'] as string).ok).toBe(true);
    expect(attempts.map((a) => [a.attempt, a.outcome, a.httpStatus])).toEqual([
      [1, 'FAILED', 500],
      [2, 'FAILED', 500],
      [3, 'DELIVERED', 200],
    ]);
    expect(attempts.map((a) => a.nextRetryInMs)).toEqual([20, 40, undefined]);
  });

  it('drop: no callback, but the ledger records SUCCEEDED (and the event can be redelivered)', async () => {
    const { paymentId, intent } = await newIntent();
    await psp.post('/admin/faults', { mode: 'drop', count: 1 });
    await psp.post(`/v1/intents/${intent.intentId}/pay`);
    const attempts = await attemptsOf(intent.paymentTxnId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ outcome: 'DROPPED' });
    expect(receiver.forPayment(paymentId)).toHaveLength(0);
    expect((await psp.get('/admin/faults')).body).toEqual({ mode: 'none', remaining: null });

    const ledger = (await psp.get(`/admin/transactions?paymentId=${paymentId}`)).body.transactions;
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({
      paymentTxnId: intent.paymentTxnId,
      intentId: intent.intentId,
      paymentId,
      orderId: `ord_${paymentId}`,
      status: 'SUCCEEDED',
      amount: 37700,
      currency: 'CNY',
      refunds: [],
    });
    expect(ledger[0].events[0]).toMatchObject({ delivery: 'DROPPED' });

    const redelivered = await psp.post(`/admin/callbacks/${ledger[0].events[0].eventId}/redeliver`);
    expect(redelivered.status).toBe(202);
    const [callback] = await callbacksOf(paymentId, 1);
    expect(callback!.body.eventId).toBe(ledger[0].events[0].eventId);
  });

  it('duplicate: N concurrent copies with the same paymentTxnId and eventId', async () => {
    const { paymentId, intent } = await newIntent();
    const set = await psp.post('/admin/faults', { mode: 'duplicate', duplicates: 5, count: 1 });
    expect(set.body).toEqual({ mode: 'duplicate', duplicates: 5, remaining: 1 });
    await psp.post(`/v1/intents/${intent.intentId}/pay`);
    const received = await callbacksOf(paymentId, 5);
    expect(received).toHaveLength(5);
    expect(new Set(received.map((r) => r.body.paymentTxnId))).toEqual(new Set([intent.paymentTxnId]));
    expect(new Set(received.map((r) => r.body.eventId)).size).toBe(1);
    const attempts = await eventually(async () => {
      const rows = await attemptsOf(intent.paymentTxnId);
      return rows.length === 5 ? rows : undefined;
    });
    expect(attempts.map((a) => a.copy).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('delay: the callback is sent only after delayMs', async () => {
    const { paymentId, intent } = await newIntent();
    await psp.post('/admin/faults', { mode: 'delay', delayMs: 300, count: 1 });
    const before = Date.now();
    await psp.post(`/v1/intents/${intent.intentId}/pay`);
    const [callback] = await callbacksOf(paymentId, 1);
    // setTimeout never fires before its delay (allowing for millisecond rounding).
    expect(callback!.receivedAt - before).toBeGreaterThanOrEqual(295);
    expect((await psp.get('/admin/faults')).body.mode).toBe('none');
  });

  it('a fault without count applies until reset', async () => {
    await psp.post('/admin/faults', { mode: 'drop' });
    const a = await newIntent();
    const b = await newIntent();
    await psp.post(`/v1/intents/${a.intent.intentId}/pay`);
    await psp.post(`/v1/intents/${b.intent.intentId}/pay`);
    expect((await attemptsOf(a.intent.paymentTxnId))[0].outcome).toBe('DROPPED');
    expect((await attemptsOf(b.intent.paymentTxnId))[0].outcome).toBe('DROPPED');
    expect((await psp.get('/admin/faults')).body).toEqual({ mode: 'drop', remaining: null });
    expect((await psp.delete('/admin/faults')).body).toEqual({ mode: 'none', remaining: null });
  });
});

describe('checkout page', () => {
  it('shows the amount and both buttons, and Pay records the payment', async () => {
    const { paymentId, intent } = await newIntent(37700, { returnUrl: 'http://127.0.0.1:4000/orders/1?a=1&b=2' });
    const page = await fetch(intent.checkoutUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('¥377.00');
    expect(html).toContain(`<form method="post" action="/checkout/${intent.intentId}/pay"><button type="submit" class="pay">Pay</button></form>`);
    expect(html).toContain(`<form method="post" action="/checkout/${intent.intentId}/fail"><button type="submit" class="fail">Fail</button></form>`);
    expect(html).not.toMatch(/<(script|link|img)\b/);

    const result = await fetch(`${sim.url}/checkout/${intent.intentId}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    const resultHtml = await result.text();
    expect(result.status).toBe(200);
    expect(resultHtml).toContain('Payment succeeded');
    expect(resultHtml).toContain('href="http://127.0.0.1:4000/orders/1?a=1&amp;b=2"');
    const [callback] = await callbacksOf(paymentId, 1);
    expect(callback!.body.status).toBe('SUCCEEDED');

    // Pay again (or Fail after paying): the same result, nothing new recorded.
    const again = await (await fetch(`${sim.url}/checkout/${intent.intentId}/fail`, { method: 'POST' })).text();
    expect(again).toContain('Payment succeeded');
    expect((await psp.get(`/admin/transactions/${intent.paymentTxnId}`)).body.events).toHaveLength(1);
  });

  it('formats other currencies from minor units and 404s unknown intents', async () => {
    const { intent } = await newIntent(5, { currency: 'USD' });
    expect(await (await fetch(intent.checkoutUrl)).text()).toContain('$0.05');
    const jpy = await newIntent(1200, { currency: 'JPY' });
    expect(await (await fetch(jpy.intent.checkoutUrl)).text()).toContain('¥1,200');
    expect((await fetch(`${sim.url}/checkout/pi_unknown`)).status).toBe(404);
  });
});

describe('ledger', () => {
  it('filters transactions by time window', async () => {
    const { paymentId } = await newIntent();
    const inWindow = await psp.get(`/admin/transactions?from=${new Date(Date.now() - 60_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(inWindow.body.transactions.some((t: any) => t.paymentId === paymentId)).toBe(true);
    const before = await psp.get(`/admin/transactions?to=${new Date(Date.now() - 3_600_000).toISOString()}`);
    expect(before.body.transactions.some((t: any) => t.paymentId === paymentId)).toBe(false);
  });
});
