import { Counter, Histogram } from 'prom-client';
import type { RequestHandler } from 'express';
import { registry } from '@shop/kit';

/** HTTP metrics of the gateway, in the kit's registry (beside graphql_requests_total and the process metrics). */
const httpRequests = new Counter({
  name: 'http_requests_total',
  help: 'HTTP requests answered by the gateway, by method, route and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

const httpDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time for the gateway to answer an HTTP request',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5],
  registers: [registry],
});

/** Labels use the route path template (never the raw URL), so label cardinality stays bounded. */
export const httpMetrics: RequestHandler = (req, res, next) => {
  const stop = httpDuration.startTimer();
  res.on('finish', () => {
    const route = (req.route as { path?: string } | undefined)?.path ?? (req.baseUrl || 'unmatched');
    stop({ method: req.method, route });
    httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
  });
  next();
};
