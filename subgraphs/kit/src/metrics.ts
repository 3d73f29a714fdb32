import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { nameActiveSpan } from './tracing.js';

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

/**
 * The `operation` label of a request. It must come from a closed set: a label value a client can
 * choose freely (its operation name) adds a time series per value, and memory without bound.
 */
export type OperationLabel = (ctx: GraphQLRequestContextWillSendResponse<any>) => string;

/** The label of an operation that was not parsed, validated or resolved. */
export const UNRESOLVED_OPERATION = 'unresolved';

/**
 * A subgraph's label: the operation's first root field (`_entities`, `placeOrder`, ...), a field of
 * its own schema once the operation validated, so the set is the schema's root fields.
 */
export const rootFieldLabel: OperationLabel = (ctx) => {
  // Apollo sets `operation` only after the document validated against the schema.
  const first = ctx.operation?.selectionSet.selections.find((s) => s.kind === 'Field');
  return first?.kind === 'Field' ? `${ctx.operation!.operation}:${first.name.value}` : UNRESOLVED_OPERATION;
};

/** A label from a closed list of operation names (the gateway's known operations); any other name is `other`. */
export const knownOperationLabel =
  (known: ReadonlySet<string>): OperationLabel =>
  (ctx) => {
    if (!ctx.operation) return UNRESOLVED_OPERATION;
    const name = ctx.operationName;
    return name && known.has(name) ? name : 'other';
  };

/** Apollo plugin that counts and times every operation, labelled by `labelOf`. */
export const metricsPlugin = (labelOf: OperationLabel): ApolloServerPlugin => ({
  async requestDidStart() {
    const stop = graphqlDuration.startTimer();
    return {
      async willSendResponse(ctx) {
        const operation = labelOf(ctx);
        stop({ operation });
        nameActiveSpan(operation);
        graphqlRequests.inc({ operation, outcome: ctx.errors?.length ? 'error' : 'ok' });
      },
    };
  },
});
