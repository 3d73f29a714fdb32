import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signPayload, verifySignature } from './signature.js';

const SECRET = 'test-secret';
const BODY = JSON.stringify({
  eventId: 'evt_1',
  paymentTxnId: 'txn_1',
  paymentId: 'pay_1',
  status: 'SUCCEEDED',
  amount: 37700,
  currency: 'CNY',
  occurredAt: '2026-11-24T10:00:00Z',
});
const T = 1_795_000_000;

describe('payment signature', () => {
  it('signs as t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(signPayload(SECRET, BODY, T)).toBe(`t=${T},v1=${expected}`);
  });

  it('verifies its own signature, from a string or a Buffer body', () => {
    const header = signPayload(SECRET, BODY, T);
    expect(verifySignature(SECRET, BODY, header, T)).toEqual({ ok: true, t: T });
    expect(verifySignature(SECRET, Buffer.from(BODY), header, T + 299).ok).toBe(true);
  });

  it('refuses a tampered body', () => {
    const header = signPayload(SECRET, BODY, T);
    const result = verifySignature(SECRET, BODY.replace('37700', '1'), header, T);
    expect(result).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('refuses a stale or future t (more than 300 s away)', () => {
    const header = signPayload(SECRET, BODY, T);
    expect(verifySignature(SECRET, BODY, header, T + 301)).toEqual({ ok: false, reason: 'signature timestamp outside tolerance' });
    expect(verifySignature(SECRET, BODY, header, T - 301).ok).toBe(false);
    expect(verifySignature(SECRET, BODY, header, T + 60, 30).ok).toBe(false);
  });

  it('refuses a t changed after signing', () => {
    const header = signPayload(SECRET, BODY, T).replace(`t=${T}`, `t=${T + 1}`);
    expect(verifySignature(SECRET, BODY, header, T).ok).toBe(false);
  });

  it('refuses a wrong secret', () => {
    expect(verifySignature('other-secret', BODY, signPayload(SECRET, BODY, T), T)).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('refuses missing or malformed headers', () => {
    expect(verifySignature(SECRET, BODY, undefined, T).ok).toBe(false);
    expect(verifySignature(SECRET, BODY, '', T).ok).toBe(false);
    expect(verifySignature(SECRET, BODY, 'garbage', T).ok).toBe(false);
    expect(verifySignature(SECRET, BODY, `t=${T}`, T).ok).toBe(false);
    expect(verifySignature(SECRET, BODY, `t=abc,v1=${'0'.repeat(64)}`, T).ok).toBe(false);
    expect(verifySignature(SECRET, BODY, `t=${T},v1=zz`, T).ok).toBe(false);
  });
});
