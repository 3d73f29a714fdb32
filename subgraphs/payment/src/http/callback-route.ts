import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { CORRELATION_HEADER, logger, secret, verifySignature, type EntityManager, type SubgraphServerOptions } from '@shop/kit';
import { callbackSchema, processCallback } from '../domain/callback.js';

type App = Parameters<NonNullable<SubgraphServerOptions['routes']>>[0];

export const CALLBACK_PATH = '/internal/v1/payment/callback';
const MAX_BODY_BYTES = 64 * 1024;

class BodyTooLarge extends Error {}

/** The exact bytes of the body: the signature is over them, so nothing parses them first. */
async function rawBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * POST /internal/v1/payment/callback (CONTRACT.md), forwarded by the gateway with the raw body and
 * the Payment-Signature header.
 * - 401: missing or bad signature, or t more than 300 s from now; nothing is written
 * - 400: signed, but not a callback body; 413: larger than 64 KiB
 * - 200 {outcome}: durably recorded (a repeat is 200 and changes nothing)
 * - 500: not recorded; the provider retries
 */
export function callbackRoute(em: EntityManager): (app: App) => void {
  return (app) => {
    app.post(CALLBACK_PATH, async (req, res) => {
      const header = req.headers[CORRELATION_HEADER];
      const correlationId = typeof header === 'string' && header.length > 0 && header.length <= 100 ? header : randomUUID();
      let raw: Buffer;
      try {
        raw = await rawBody(req);
      } catch (error) {
        if (error instanceof BodyTooLarge) return void res.status(413).json({ error: `body is larger than ${MAX_BODY_BYTES} bytes` });
        throw error;
      }
      const signature = req.headers['payment-signature'];
      const verified = verifySignature(secret('PAYMENT_WEBHOOK_SECRET'), raw, typeof signature === 'string' ? signature : undefined);
      if (!verified.ok) {
        logger.warn({ reason: verified.reason, correlationId }, 'payment callback refused: signature');
        return void res.status(401).json({ error: `invalid Payment-Signature: ${verified.reason}` });
      }
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        return void res.status(400).json({ error: 'body is not valid JSON' });
      }
      const parsed = callbackSchema.safeParse(json);
      if (!parsed.success) {
        const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
        return void res.status(400).json({ error: 'not a payment callback body', issues });
      }
      try {
        const result = await processCallback(em, parsed.data, 'provider', correlationId, json);
        res.status(200).json({ ok: true, ...result });
      } catch (error) {
        logger.error({ err: error, eventId: parsed.data.eventId, correlationId }, 'payment callback could not be recorded');
        res.status(500).json({ error: 'the callback could not be recorded: retry later' });
      }
    });
  };
}
