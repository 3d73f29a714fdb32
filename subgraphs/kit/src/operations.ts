import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { Express, RequestHandler } from 'express';
import { isProduction } from './config.js';
import { CORRELATION_HEADER } from './identity.js';
import { registry } from './metrics.js';
import { runChecks, type ReadinessCheck } from './readiness.js';
import { activeTraceId } from './tracing.js';

/**
 * The operator routes every process serves the same way (gateway and subgraphs):
 * - GET /healthz: the process is up;
 * - GET /readyz: every readiness check passes (200) or not (503, with what failed; the failure's
 *   text, which can name internal addresses, only for a request bearing METRICS_TOKEN when it is set);
 * - GET /metrics: Prometheus text. With METRICS_TOKEN set (required in production) only a request
 *   with `Authorization: Bearer <METRICS_TOKEN>` gets it, everyone else 401: the gateway's public
 *   port does not hand its metrics to clients.
 */
export function mountOperations(app: Express, options: { service: string; checks: Record<string, ReadinessCheck> }): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: options.service });
  });
  app.get('/readyz', async (req, res) => {
    const results = await runChecks(options.checks);
    const checks = isOperator(req.headers.authorization)
      ? results.checks
      : Object.fromEntries(Object.entries(results.checks).map(([name, state]) => [name, state === 'ok' ? 'ok' : 'failing']));
    res.status(results.ready ? 200 : 503).json({ service: options.service, ready: results.ready, checks });
  });
  app.get('/metrics', operatorOnly, async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
}

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** True for a request bearing METRICS_TOKEN; without one configured, for every request outside production. */
function isOperator(authorization: string | undefined): boolean {
  const token = process.env.METRICS_TOKEN;
  if (!token) return !isProduction();
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return !!match && sameText(match[1]!, token);
}

/** Lets through operators only (see isOperator). */
const operatorOnly: RequestHandler = (req, res, next) => {
  if (!isOperator(req.headers.authorization)) {
    res.status(401).setHeader('www-authenticate', 'Bearer').json({ error: 'metrics are for operators: send Authorization: Bearer <METRICS_TOKEN>' });
    return;
  }
  next();
};

const SAFE_CORRELATION = /^[\w.:-]{1,100}$/;

/**
 * The one correlation-id sanitizer (gateway and subgraphs): with tracing on, the trace id of the
 * request (so logs, events and traces share one id); otherwise the caller's x-correlation-id when it
 * is a sane token (letters, digits, `_ . : -`, at most 100), else a fresh UUID. What reaches logs
 * and events is never a client's free text.
 */
export function correlationIdFrom(headers: Record<string, string | string[] | undefined>): string {
  const traceId = activeTraceId();
  if (traceId) return traceId;
  const value = headers[CORRELATION_HEADER];
  return typeof value === 'string' && SAFE_CORRELATION.test(value) ? value : randomUUID();
}
