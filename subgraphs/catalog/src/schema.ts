import { buildSubgraph, isId, type CacheHints, type SubgraphContext } from '@shop/kit';
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

/**
 * How long the gateway may keep catalog answers (kit cache-hints.ts): products, SKUs and prices a
 * long time (updateSku changes them and says so with catalog.sku-changed and catalog.product-changed,
 * which a gateway may take to drop what it cached), listings, searches and categories less, since a
 * new product joins them. Stock (`available`) is inventory's, hinted there.
 */
export const CATALOG_CACHE_HINTS: CacheHints = {
  'Query.product': 300,
  'Query.sku': 300,
  Product: 300,
  Sku: 300,
  Money: 300,
  'Query.products': 30,
  'Query.categories': 30,
  ProductConnection: 30,
  ProductEdge: 30,
  PageInfo: 30,
  Category: 30,
};
