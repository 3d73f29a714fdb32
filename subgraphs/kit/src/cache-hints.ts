import type { ApolloServerPlugin } from '@apollo/server';
import { getNamedType, isCompositeType, type GraphQLResolveInfo } from 'graphql';

/**
 * How long (seconds) public data of a subgraph may be cached, by type (`Sku`) or by field
 * (`Query.products`, `Sku.available`); a field's entry wins over its type's. Apollo Server's cache
 * control computes the answer's policy from these hints (an unhinted object field or root field makes
 * the answer uncacheable) and sends it as the `cache-control` header, which Apollo Gateway merges
 * into the client response's policy (gateway/src/response-cache). `_entities` takes the shortest
 * hint of the types it is asked for. Only public data gets a hint: personal data has none, so an
 * answer with any of it is never cacheable.
 */
export type CacheHints = Readonly<Record<string, number>>;

/** What Apollo Server's cache control puts on `info` (see @apollo/cache-control-types). */
interface WithCacheControl {
  cacheControl?: { setCacheHint(hint: { maxAge: number; scope: 'PUBLIC' }): void };
}

interface Representation {
  __typename?: unknown;
}

function maxAgeOf(hints: CacheHints, info: GraphQLResolveInfo, args: Record<string, unknown>): number | undefined {
  const field = hints[`${info.parentType.name}.${info.fieldName}`];
  if (field !== undefined) return field;
  if (info.parentType.name === 'Query' && info.fieldName === '_entities') {
    const typenames = new Set(((args.representations ?? []) as Representation[]).map((r) => String(r?.__typename)));
    let shortest: number | undefined;
    for (const typename of typenames) {
      const hint = hints[typename];
      if (hint === undefined) return undefined;
      shortest = Math.min(shortest ?? hint, hint);
    }
    return shortest;
  }
  const named = getNamedType(info.returnType);
  return isCompositeType(named) ? hints[named.name] : undefined;
}

/** The plugin that applies a subgraph's CacheHints (public scope) to every field it resolves. */
export function cacheHintsPlugin(hints: CacheHints): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async executionDidStart() {
          return {
            willResolveField({ info, args }) {
              const maxAge = maxAgeOf(hints, info, args as Record<string, unknown>);
              if (maxAge !== undefined) (info as WithCacheControl).cacheControl?.setCacheHint({ maxAge, scope: 'PUBLIC' });
            },
          };
        },
      };
    },
  };
}
