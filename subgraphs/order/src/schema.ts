import { buildSubgraph, isId, opsMetricsResolver, type SubgraphContext } from '@shop/kit';
import type { GraphQLSchema } from 'graphql';
import { OrderSubscriptionResolver } from './graphql/subscriptions.js';
import { AddressResolver, OrderResolver, RefundResolver, maySee, orderLoader, toOrder } from './graphql/resolvers.js';
import { RiskResolver } from './graphql/risk.js';
import { RiskReviewResolver } from './graphql/risk-review.js';
import { AddressEditResolver, OrderAddressResolver } from './graphql/address-edits.js';
import { AdminOrderResolver, AdminRefundResolver } from './graphql/admin-orders.js';

/** The order subgraph schema: orders, previews, placement, cancellation and addresses. */
export function buildOrderSchema(): Promise<GraphQLSchema> {
  return buildSubgraph({
    resolvers: [
      OrderResolver,
      AddressResolver,
      RefundResolver,
      RiskResolver,
      RiskReviewResolver,
      OrderSubscriptionResolver,
      AddressEditResolver,
      OrderAddressResolver,
      AdminOrderResolver,
      AdminRefundResolver,
      opsMetricsResolver('orderMetrics', ['order_create_qps', 'order_create_p95_ms', 'order_fail_rate']),
    ],
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
