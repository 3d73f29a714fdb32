import { buildSubgraph, isId, opsMetricsResolver, type SubgraphContext } from '@shop/kit';
import type { GraphQLSchema } from 'graphql';
import { SkuStockResolver, WarehouseResolver, stockLoader, toSku } from './graphql/resolvers.js';

/** The inventory subgraph schema: contributes `available` and `stock` to the catalog's `Sku`, and setStock. */
export function buildInventorySchema(): Promise<GraphQLSchema> {
  return buildSubgraph({
    resolvers: [
      SkuStockResolver,
      WarehouseResolver,
      opsMetricsResolver('inventoryMetrics', ['reserve_success_rate', 'stock_release_lag_sec', 'oversell_count']),
    ],
    referenceResolvers: {
      Sku: {
        // A SKU with no stock rows has 0 available (not null): the catalog decides whether it exists.
        __resolveReference: async (ref: { id: string }, ctx: SubgraphContext) => {
          if (!isId('sku', ref.id)) return null;
          return toSku(ref.id, (await stockLoader(ctx).load(ref.id)) ?? []);
        },
      },
    },
  });
}
