import { Agent, fetch as undiciFetch } from 'undici';
import { envInt } from '@shop/kit';

/** How the gateway holds its connections to each subgraph (and the payment callback's and readiness's). */
export interface SubgraphPool {
  /** Connections kept per subgraph origin; requests beyond wait for one. Env SUBGRAPH_CONNECTIONS, default 64. */
  connections: number;
  /**
   * How long an idle connection is kept for the next request. Env SUBGRAPH_KEEPALIVE_MS, default
   * 30000; a subgraph that announces a shorter `Keep-Alive: timeout` (Node's default: 5 s) is
   * believed, less two seconds (undici's margin), so the gateway does not send on a connection the
   * subgraph is closing.
   */
  keepAliveMs: number;
}

export const subgraphPoolFromEnv = (overrides: Partial<SubgraphPool> = {}): SubgraphPool => ({
  connections: envInt('SUBGRAPH_CONNECTIONS', 64),
  keepAliveMs: envInt('SUBGRAPH_KEEPALIVE_MS', 30_000),
  ...overrides,
});

export interface SubgraphHttp {
  pool: SubgraphPool;
  /** `fetch` over the pool. */
  fetch: typeof fetch;
  /** Closes the pool's connections (gateway stop). */
  close(): Promise<void>;
}

/**
 * The gateway's HTTP client for everything it sends inside the system (undici's Agent): keep-alive
 * connections, at most `connections` per subgraph origin, one request at a time on each (no
 * pipelining: a slow answer never holds up the requests queued behind it on its connection).
 * Node's global `fetch` would keep an unbounded number of connections per origin open for 4 s each:
 * a burst opens hundreds, and a lull closes them all.
 */
export function subgraphHttp(pool: SubgraphPool = subgraphPoolFromEnv()): SubgraphHttp {
  const agent = new Agent({
    connections: pool.connections,
    pipelining: 1,
    keepAliveTimeout: pool.keepAliveMs,
    keepAliveMaxTimeout: pool.keepAliveMs,
  });
  const fetcher = ((input: string | URL, init?: RequestInit) =>
    undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent })) as unknown as typeof fetch;
  return { pool, fetch: fetcher, close: () => agent.close() };
}
