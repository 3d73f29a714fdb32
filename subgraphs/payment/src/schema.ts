import { buildSubgraph } from '@shop/kit';
import type { GraphQLSchema } from 'graphql';
import { OrderPaymentResolver, PaymentResolver } from './graphql/resolvers.js';
import { Order } from './graphql/types.js';

/** The payment subgraph schema: payOrder, Payment, and Order.payment (an extension of the order subgraph's Order). */
export function buildPaymentSchema(): Promise<GraphQLSchema> {
  return buildSubgraph({
    resolvers: [PaymentResolver, OrderPaymentResolver],
    orphanedTypes: [Order],
    referenceResolvers: {
      Order: { __resolveReference: (ref: { id: string }) => Object.assign(new Order(), { id: ref.id }) },
    },
  });
}
