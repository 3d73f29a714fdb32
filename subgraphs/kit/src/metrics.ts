import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ApolloServerPlugin } from '@apollo/server';

/** One registry per process, served at /metrics in Prometheus text format. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const graphqlRequests = new Counter({
  name: 'graphql_requests_total',
  help: 'GraphQL operations handled, by operation name and outcome',
  labelNames: ['operation', 'outcome'] as const,
  registers: [registry],
});

export const graphqlDuration = new Histogram({
  name: 'graphql_request_duration_seconds',
  help: 'Time to answer a GraphQL operation',
  labelNames: ['operation'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5],
  registers: [registry],
});

/** Apollo plugin that counts and times every operation. */
export const metricsPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    const stop = graphqlDuration.startTimer();
    return {
      async willSendResponse(ctx) {
        const operation = ctx.operationName ?? 'anonymous';
        stop({ operation });
        graphqlRequests.inc({ operation, outcome: ctx.errors?.length ? 'error' : 'ok' });
      },
    };
  },
};
