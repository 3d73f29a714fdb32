import { buildSubgraph } from '@shop/kit';
import type { GraphQLSchema } from 'graphql';
import { CartResolver } from './graphql/resolvers.js';

/** The cart subgraph schema: the signed-in user's cart, referring to the catalog's Sku by id. */
export function buildCartSchema(): Promise<GraphQLSchema> {
  return buildSubgraph({ resolvers: [CartResolver] });
}
