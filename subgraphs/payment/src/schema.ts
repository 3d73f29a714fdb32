import { buildSubgraph, opsMetricsResolver } from '@shop/kit';
import { ReconciliationResolver } from './graphql/reconciliation.js';
import type { GraphQLSchema } from 'graphql';
import { OrderPaymentResolver, PaymentResolver } from './graphql/resolvers.js';
import { Order } from './graphql/types.js';

/** The payment subgraph schema: payOrder, Payment, and Order.payment (an extension of the order subgraph's Order). */
export function buildPaymentSchema(): Promise<GraphQLSchema> {
  return buildSubgraph({
    resolvers: [
      PaymentResolver,
      OrderPaymentResolver,
      ReconciliationResolver,
      opsMetricsResolver('paymentMetrics', ['payment_callback_delay_p95', 'saga_compensation_count', 'reconciliation_diff_count']),
    ],
    orphanedTypes: [Order],
    referenceResolvers: {
      Order: { __resolveReference: (ref: { id: string }) => Object.assign(new Order(), { id: ref.id }) },
    },
  });
}
