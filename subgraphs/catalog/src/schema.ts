import { buildSubgraph, isId, type SubgraphContext } from '@shop/kit';
import type { GraphQLSchema } from 'graphql';
import { ProductResolver, SkuResolver, productLoader, skuLoader, toProduct, toSku } from './graphql/resolvers.js';

/** The catalog subgraph schema: products and SKUs, the owner of `Product` and `Sku`. */
export function buildCatalogSchema(): Promise<GraphQLSchema> {
  return buildSubgraph({
    resolvers: [ProductResolver, SkuResolver],
    referenceResolvers: {
      Sku: {
        __resolveReference: async (ref: { id: string }, ctx: SubgraphContext) => {
          if (!isId('sku', ref.id)) return null;
          const row = await skuLoader(ctx).load(ref.id);
          return row ? toSku(row) : null;
        },
      },
      Product: {
        __resolveReference: async (ref: { id: string }, ctx: SubgraphContext) => {
          if (!isId('prd', ref.id)) return null;
          const row = await productLoader(ctx).load(ref.id);
          return row ? toProduct(row) : null;
        },
      },
    },
  });
}
