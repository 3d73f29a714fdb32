import type { ApolloServerOptions } from '@apollo/server';

/**
 * Persisted queries. Today: Apollo Server's automatic persisted queries (APQ), on by default, with its
 * in-memory cache; unknown hashes answer PERSISTED_QUERY_NOT_FOUND and the client resends the text.
 *
 * Later: a partner safelist built from the manifests in schema/operations/, answering
 * PERSISTED_QUERY_NOT_ALLOWED to operations outside it. It plugs in here (a plugin checking the
 * operation hash against the manifest in didResolveSource), without touching gateway.ts.
 */
export function persistedQueriesOptions(): Pick<ApolloServerOptions<Record<string, unknown>>, 'persistedQueries'> {
  return {};
}
