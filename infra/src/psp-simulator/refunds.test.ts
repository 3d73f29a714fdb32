import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/kit/testing';
import { createSimulator, type RunningSimulator } from './server.js';
import { verifySignature } from './signature.js';
import { api, freshPaymentId, startReceiver, type Receiver } from './test-helpers.js';

const SECRET = 'psp-refund-secret';
let sim: RunningSimulator;
let receiver: Receiver;
let psp: ReturnType<typeof api>;

beforeAll(async () => {
  receiver = await startReceiver();
  sim = await createSimulator({ port: 0, secret: SECRET, retryBaseMs: 20 });
  psp = api(sim.url);
});
afterAll(async () => {
  await sim?.stop();
  await receiver?.close();
});

async function paidIntent(amount = 37700) {
  const paymentId = freshPaymentId();
  const { body: intent } = await psp.post('/v1/intents', {
    merchantRef: paymentId,
    orderId: `ord_${paymentId}`,
    amount,
    currency: 'CNY',
    callbackUrl: receiver.url,
  });
  await psp.post(`/v1/intents/${intent.intentId}/pay`);
  return { paymentId, intent };
}

describe('refunds', () => {
  it('partial, idempotent, over-refund 422, then full refund sends REFUNDED', async () => {
    const { paymentId, intent } = await paidIntent();
    const txnId = intent.paymentTxnId;

    const partial = await psp.post('/v1/refunds', { paymentTxnId: txnId, amount: 10000, refundRef: `rfd_${paymentId}_1` });
    expect(partial.status).toBe(201);
    expect(partial.body).toMatchObject({ status: 'SUCCEEDED', amount: 10000, paymentTxnId: txnId, transactionStatus: 'SUCCEEDED' });
    expect(partial.body.refundId).toMatch(/^re_[0-9a-f]{32}$/);

    const replay = await psp.post('/v1/refunds', { paymentTxnId: txnId, amount: 10000, refundRef: `rfd_${paymentId}_1` });
    expect(replay.status).toBe(201);
    expect(replay.body.refundId).toBe(partial.body.refundId);
    expect((await psp.post('/v1/refunds', { paymentTxnId: txnId, amount: 9000, refundRef: `rfd_${paymentId}_1` })).status).toBe(409);

    const over = await psp.post('/v1/refunds', { paymentTxnId: txnId, amount: 27701, refundRef: `rfd_${paymentId}_2` });
    expect(over.status).toBe(422);
    expect(over.body.error).toBe('refund of 27701 exceeds the refundable amount 27700 (captured 37700, already refunded 10000)');

    let txn = (await psp.get(`/admin/transactions/${txnId}`)).body;
    expect(txn).toMatchObject({ status: 'SUCCEEDED', refunded: 10000 });
    expect(txn.events.map((e: any) => e.status)).toEqual(['SUCCEEDED']);

    const rest = await psp.post('/v1/refunds', { paymentTxnId: txnId, amount: 27700, refundRef: `rfd_${paymentId}_3` });
    expect(rest.status).toBe(201);
    expect(rest.body.transactionStatus).toBe('REFUNDED');

    const callbacks = await eventually(async () => {
      const rows = receiver.forPayment(paymentId);
      return rows.some((r) => r.body.status === 'REFUNDED') ? rows : undefined;
    });
    const paid = callbacks.find((r) => r.body.status === 'SUCCEEDED')!;
    const refunded = callbacks.find((r) => r.body.status === 'REFUNDED')!;
    expect(refunded.body).toMatchObject({ paymentTxnId: txnId, paymentId, amount: 37700, currency: 'CNY' });
    expect(refunded.body.eventId).not.toBe(paid.body.eventId);
    expect(verifySignature(SECRET, refunded.raw, refunded.headers['payment-signature'] as string).ok).toBe(true);

    txn = (await psp.get(`/admin/transactions/${txnId}`)).body;
    expect(txn).toMatchObject({ status: 'REFUNDED', refunded: 37700 });
    expect(txn.refunds.map((r: any) => r.amount)).toEqual([10000, 27700]);

    const afterFull = await psp.post('/v1/refunds', { paymentTxnId: txnId, amount: 1, refundRef: `rfd_${paymentId}_4` });
    expect(afterFull.status).toBe(422);
    // A refunded payment stays paid for the payer's page and the JSON API.
    expect((await psp.post(`/v1/intents/${intent.intentId}/pay`)).body).toMatchObject({ status: 'REFUNDED', changed: false });
  });

  it('refuses refunds of unknown or uncaptured transactions', async () => {
    const paymentId = freshPaymentId();
    const { body: intent } = await psp.post('/v1/intents', {
      merchantRef: paymentId,
      orderId: 'ord_1',
      amount: 500,
      currency: 'CNY',
      callbackUrl: receiver.url,
    });
    const pending = await psp.post('/v1/refunds', { paymentTxnId: intent.paymentTxnId, amount: 100, refundRef: `rfd_${paymentId}` });
    expect(pending.status).toBe(422);
    expect(pending.body.error).toMatch(/is PENDING/);
    expect((await psp.post('/v1/refunds', { paymentTxnId: 'txn_unknown', amount: 100, refundRef: `rfd_${paymentId}` })).status).toBe(404);
    const missing = await psp.post('/v1/refunds', { paymentTxnId: intent.paymentTxnId, amount: 100 });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/refundRef is required/);
  });
});
