import { Counter } from 'prom-client';
import { IDENTITY_HEADER, registry } from '@shop/kit';

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

interface Shared {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
}

const deduplicated = new Counter({
  name: 'gateway_subgraph_fetch_deduplicated_total',
  help: 'Subgraph fetches answered by an identical anonymous fetch already in flight, by subgraph',
  labelNames: ['subgraph'] as const,
  registers: [registry],
});

/** A query (never a mutation) as Apollo Gateway serializes a subgraph request: `{"query":"query…` or `{"query":"{…`. */
const isQuery = (body: string): boolean => body.startsWith('{"query":"query') || body.startsWith('{"query":"{');

const hasIdentity = (headers: RequestInit['headers']): boolean => new Headers(headers).has(IDENTITY_HEADER);

/**
 * Identical subgraph queries in flight at once share one fetch: the followers get a copy of the
 * leader's answer. Only queries without an identity are shared (their answer is the same for every
 * anonymous client); a request with an identity, and every mutation, always makes its own fetch.
 */
export function deduplicateInFlight(subgraph: string, fetcher: Fetch): Fetch {
  const inFlight = new Map<string, Promise<Shared>>();
  return async (url, init) => {
    const body = typeof init?.body === 'string' ? init.body : undefined;
    if (body === undefined || !isQuery(body) || hasIdentity(init?.headers)) return fetcher(url, init);
    const key = `${url}\u0000${body}`;
    let shared = inFlight.get(key);
    if (shared) {
      deduplicated.inc({ subgraph });
    } else {
      shared = fetcher(url, init).then(async (response) => ({
        status: response.status,
        statusText: response.statusText,
        headers: [...response.headers.entries()],
        body: await response.text(),
      }));
      inFlight.set(key, shared);
      const done = () => inFlight.delete(key);
      shared.then(done, done);
    }
    const answer = await shared;
    return new Response(answer.body, { status: answer.status, statusText: answer.statusText, headers: answer.headers });
  };
}
