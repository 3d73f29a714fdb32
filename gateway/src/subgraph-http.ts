import { Agent, type Dispatcher } from 'undici';
import { envInt } from '@shop/kit';

/** How the gateway holds its connections to each subgraph (and the payment callback's and readiness's). */
export interface SubgraphPool {
  /** Connections kept per subgraph origin; requests beyond wait for one. Env SUBGRAPH_CONNECTIONS, default 64. */
  connections: number;
  /**
   * How long an idle connection is kept for the next request. Env SUBGRAPH_KEEPALIVE_MS, default
   * 30000; a subgraph that announces a shorter `Keep-Alive: timeout` (HTTP_KEEPALIVE_TIMEOUT_MS, 65 s by default) is
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

/** Statuses whose Response has no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** Request headers as undici's request API takes them (a record), from what fetch callers pass. */
function headerRecord(headers: RequestInit['headers']): Record<string, string> | undefined {
  if (!headers) return undefined;
  if (headers instanceof Headers || Array.isArray(headers)) return Object.fromEntries(headers as Iterable<[string, string]>);
  return headers as Record<string, string>;
}

/** Response headers from undici's record (a repeated header is an array). */
function responseHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.append(name, value);
  }
  return headers;
}

/**
 * The gateway's HTTP client for everything it sends inside the system (undici's Agent): keep-alive
 * connections, at most `connections` per subgraph origin, one request at a time on each (no
 * pipelining: a slow answer never holds up the requests queued behind it on its connection).
 * Node's global `fetch` would keep an unbounded number of connections per origin open for 4 s each:
 * a burst opens hundreds, and a lull closes them all.
 * Its `fetch` is undici's request API behind fetch's signature: the answers are small JSON documents
 * read whole, and undici's WHATWG fetch (a Request, a fetch controller and web streams per call)
 * was a fifth of the gateway's CPU per order (issue 11's profiles). The body is read as text and
 * handed back in a Response; a failure rejects as fetch's does (a TypeError, or the signal's reason).
 */
export function subgraphHttp(pool: SubgraphPool = subgraphPoolFromEnv()): SubgraphHttp {
  const agent = new Agent({
    connections: pool.connections,
    pipelining: 1,
    keepAliveTimeout: pool.keepAliveMs,
    keepAliveMaxTimeout: pool.keepAliveMs,
  });
  const fetcher = async (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    const url = typeof input === 'string' ? new URL(input) : input;
    let answer: Dispatcher.ResponseData;
    try {
      answer = await agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: headerRecord(init.headers),
        body: (init.body as string | Buffer | null | undefined) ?? null,
        signal: init.signal ?? undefined,
      });
    } catch (error) {
      if (init.signal?.aborted) throw init.signal.reason; // as fetch: the signal's reason (a TimeoutError)
      throw new TypeError('fetch failed', { cause: error });
    }
    const text = await answer.body.text();
    return new Response(NULL_BODY.has(answer.statusCode) ? null : text, { status: answer.statusCode, headers: responseHeaders(answer.headers) });
  };
  return { pool, fetch: fetcher as typeof fetch, close: () => agent.close() };
}
