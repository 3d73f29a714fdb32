import { buildSubgraph, isId, type SubgraphContext } from '@shop/kit';
import type { GraphQLSchema } from 'graphql';
import { OrderSubscriptionResolver } from './graphql/subscriptions.js';
import { AddressResolver, OrderResolver, RefundResolver, maySee, orderLoader, toOrder } from './graphql/resolvers.js';
import { RiskResolver } from './graphql/risk.js';
import { RiskReviewResolver } from './graphql/risk-review.js';

/** The order subgraph schema: orders, previews, placement, cancellation and addresses. */
export function buildOrderSchema(): Promise<GraphQLSchema> {
  return buildSubgraph({
    resolvers: [OrderResolver, AddressResolver, RefundResolver, RiskResolver, RiskReviewResolver, OrderSubscriptionResolver],
    referenceResolvers: {
      Order: {
        __resolveReference: async (ref: { id: string }, ctx: SubgraphContext) => {
          if (!isId('ord', ref.id)) return null;
          const row = await orderLoader(ctx).load(ref.id);
          return row && maySee(ctx, row) ? toOrder(row) : null;
        },
      },
    },
  });
}
