import { buildSubgraph, isId, opsMetricsResolver, type CacheHints, type SubgraphContext } from '@shop/kit';
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

/**
 * How long the gateway may keep stock (kit cache-hints.ts): `available` a few seconds only; a
 * reservation's or a rejection's event drops the cached answers of its SKUs at once
 * (gateway/src/response-cache), so a sell-out shows within about a second. Per-warehouse stock is
 * for operators and has no hint.
 */
export const INVENTORY_CACHE_HINTS: CacheHints = { Sku: 5 };
