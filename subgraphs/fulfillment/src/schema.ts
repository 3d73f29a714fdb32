import { DeadLetterResolver, buildSubgraph } from '@shop/kit';
import type { GraphQLSchema } from 'graphql';
import { OrderShipmentsResolver, ShipmentResolver } from './graphql/resolvers.js';
import { Order } from './graphql/types.js';
import { AdminShipmentResolver } from './graphql/admin-shipments.js';

/** The fulfillment subgraph schema: shipments, their admin moves, and Order.shipments (an extension of the order subgraph's Order). */
export function buildFulfillmentSchema(): Promise<GraphQLSchema> {
  return buildSubgraph({
    resolvers: [ShipmentResolver, OrderShipmentsResolver, AdminShipmentResolver, DeadLetterResolver],
    orphanedTypes: [Order],
    referenceResolvers: {
      Order: { __resolveReference: (ref: { id: string }) => Object.assign(new Order(), { id: ref.id }) },
    },
  });
}
