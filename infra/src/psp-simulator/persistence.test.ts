import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/kit/testing';
import { createSimulator } from './server.js';
import { api, freshPaymentId, startReceiver, type Receiver } from './test-helpers.js';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

describe('state file', () => {
  it('keeps the ledger across a restart and resumes an unacknowledged callback', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'psp-')), 'state.json');
    const paymentId = freshPaymentId();
    receiver.failFirst(paymentId, 1);

    // The first run fails once and would retry only after a minute: it stops before that.
    const first = await createSimulator({ port: 0, secret: 's', retryBaseMs: 60_000, stateFile });
    const { body: intent } = await api(first.url).post('/v1/intents', {
      merchantRef: paymentId,
      orderId: 'ord_p',
      amount: 900,
      currency: 'CNY',
      callbackUrl: receiver.url,
    });
    await api(first.url).post(`/v1/intents/${intent.intentId}/pay`);
    await eventually(async () => ((await api(first.url).get(`/admin/callbacks?paymentId=${paymentId}`)).body.callbacks.length === 1 ? true : undefined));
    await first.stop();

    const second = await createSimulator({ port: 0, secret: 's', retryBaseMs: 60_000, stateFile });
    try {
      const txn = (await api(second.url).get(`/admin/transactions/${intent.paymentTxnId}`)).body;
      expect(txn).toMatchObject({ intentId: intent.intentId, status: 'SUCCEEDED', amount: 900 });
      const received = await eventually(async () => (receiver.forPayment(paymentId).length === 2 ? receiver.forPayment(paymentId) : undefined));
      expect(received[1]!.body.eventId).toBe(received[0]!.body.eventId);
      const again = await api(second.url).post('/v1/intents', {
        merchantRef: paymentId,
        orderId: 'ord_p',
        amount: 900,
        currency: 'CNY',
        callbackUrl: receiver.url,
      });
      expect(again.body.intentId).toBe(intent.intentId);
    } finally {
      await second.stop();
    }
  });
});
