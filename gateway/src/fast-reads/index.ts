import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import type { GatewayContext } from '../auth.js';
import { CacheInvalidation } from './invalidation.js';
import { ResponseCache, responseCachePlugin } from './response-cache.js';

export { deduplicateInFlight } from './dedupe.js';
export { ResponseCache, idsIn } from './response-cache.js';

export interface FastReads {
  cache: ResponseCache;
  /** The gateway's Apollo plugins: cache control without HTTP headers, and the response cache. */
  plugins: ApolloServerPlugin<GatewayContext>[];
  stop(): Promise<void>;
}

/**
 * Anonymous catalog reads answered from the gateway's memory (response-cache.ts), dropped by the
 * catalog's and inventory's events (invalidation.ts). The policy stays inside the gateway, where it is invalidated:
 * the answers carry no `cache-control` header, so no browser or proxy keeps stock past a sell-out.
 */
export function fastReads(): FastReads {
  const cache = new ResponseCache();
  const invalidation = new CacheInvalidation(cache);
  invalidation.start();
  return {
    cache,
    plugins: [ApolloServerPluginCacheControl({ calculateHttpHeaders: false }), responseCachePlugin(cache)],
    stop: () => invalidation.stop(),
  };
}
