import express, { type Express } from 'express';
import { CORRELATION_HEADER, correlationIdFrom, logger, subgraphUrl } from '@shop/kit';
import { baseUrl } from './readiness.js';
import type { SubgraphHttp } from './subgraph-http.js';

export const PAYMENT_CALLBACK_PATH = '/internal/v1/payment/callback';
const FORWARDED_HEADERS = ['content-type', 'payment-signature'] as const;
const TIMEOUT_MS = 10_000;

/**
 * POST /internal/v1/payment/callback, forwarded verbatim to the payment subgraph: the signature is
 * over the raw body, so the bytes are passed on untouched (never parsed and re-serialised), with
 * Content-Type and Payment-Signature. The subgraph's status and body come back as they are.
 */
export function mountPaymentCallback(app: Express, http: Pick<SubgraphHttp, 'fetch'>): void {
  app.post(PAYMENT_CALLBACK_PATH, express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const correlationId = correlationIdFrom(req.headers);
    const headers: Record<string, string> = { [CORRELATION_HEADER]: correlationId };
    for (const name of FORWARDED_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const target = `${baseUrl(subgraphUrl('payment'))}${PAYMENT_CALLBACK_PATH}`;
    let upstream: Response;
    try {
      upstream = await http.fetch(target, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (error) {
      logger.error({ err: error, correlationId, target }, 'payment callback could not be forwarded');
      res.status(502).json({ message: 'The payment service is unreachable: retry the callback later' });
      return;
    }
    const answer = Buffer.from(await upstream.arrayBuffer());
    const contentType = upstream.headers.get('content-type');
    if (contentType) res.type(contentType);
    res.status(upstream.status).send(answer);
  });
}
