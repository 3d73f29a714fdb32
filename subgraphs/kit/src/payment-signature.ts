import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The `Payment-Signature` header of provider callbacks (CONTRACT.md):
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * Only node:crypto here, so the payment subgraph verifies with exactly this code.
 */
export const SIGNATURE_HEADER = 'Payment-Signature';

/** Hex HMAC-SHA256 over `<t>.<body>`; a Buffer body is hashed byte for byte. */
export const hmacHex = (secret: string, body: string | Buffer, t: number): string =>
  createHmac('sha256', secret).update(`${t}.`, 'utf8').update(body).digest('hex');

/** The header value for `body` (the exact bytes sent) signed at unix second `t`. */
export function signPayload(secret: string, body: string, t: number = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${hmacHex(secret, body, t)}`;
}

export type VerifyResult = { ok: true; t: number } | { ok: false; reason: string };

/**
 * Checks a `Payment-Signature` header against the raw request body.
 * `now` is unix seconds; a `t` further than `toleranceSeconds` from it (either way) is refused.
 * Several `v1=` entries are accepted (any matching one passes), as during a secret rotation.
 */
export function verifySignature(
  secret: string,
  rawBody: string | Buffer,
  header: string | undefined | null,
  now: number = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
): VerifyResult {
  if (!header) return { ok: false, reason: 'missing signature header' };
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) candidates.push(value.toLowerCase());
  }
  if (t === undefined) return { ok: false, reason: 'signature header has no valid t' };
  if (candidates.length === 0) return { ok: false, reason: 'signature header has no valid v1' };
  if (Math.abs(now - t) > toleranceSeconds) return { ok: false, reason: 'signature timestamp outside tolerance' };
  const expected = Buffer.from(hmacHex(secret, rawBody, t), 'hex');
  const matches = candidates.some((candidate) => timingSafeEqual(Buffer.from(candidate, 'hex'), expected));
  return matches ? { ok: true, t } : { ok: false, reason: 'signature mismatch' };
}
