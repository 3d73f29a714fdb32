import { buildSubgraph, isId, type SubgraphContext } from '@shop/kit';
import type { GraphQLSchema } from 'graphql';
import { AddressResolver, OrderResolver, RefundResolver, maySee, orderLoader, toOrder } from './graphql/resolvers.js';

/** The order subgraph schema: orders, previews, placement, cancellation and addresses. */
export function buildOrderSchema(): Promise<GraphQLSchema> {
  return buildSubgraph({
    resolvers: [OrderResolver, AddressResolver, RefundResolver],
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
