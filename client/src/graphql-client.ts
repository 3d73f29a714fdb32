import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient } from 'graphql-ws';

/** The gateway: VITE_GATEWAY_URL, default http://127.0.0.1:4000/graphql; subscriptions on the same path over ws. */
export const GATEWAY_URL: string = import.meta.env.VITE_GATEWAY_URL || 'http://127.0.0.1:4000/graphql';
const WS_URL = GATEWAY_URL.replace(/^http(s?):\/\//, 'ws$1://');

/** Fired each time the subscription socket (re)connects, so live pages can refetch what they may have missed. */
export const socketEvents = new EventTarget();
export const SOCKET_CONNECTED = 'connected';

/**
 * urql with its document cache (a mutation result refetches the queries that show the same types),
 * HTTP for queries and mutations, graphql-ws for subscriptions. One client per token.
 */
export function createGraphQLClient(token: string | null): { client: Client; dispose(): void } {
  const authorization = token ? `Bearer ${token}` : undefined;
  const ws = createWsClient({
    url: WS_URL,
    connectionParams: authorization ? { authorization } : {},
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: { connected: () => socketEvents.dispatchEvent(new Event(SOCKET_CONNECTED)) },
  });
  const client = new Client({
    url: GATEWAY_URL,
    requestPolicy: 'cache-and-network',
    // POST always: the gateway's CSRF prevention refuses simple GET requests (and APQ is not used here).
    preferGetMethod: false,
    fetchOptions: (): RequestInit => (authorization ? { headers: { authorization } } : {}),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return { client, dispose: () => void ws.dispose() };
}
