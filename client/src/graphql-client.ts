import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange, type CombinedError } from 'urql';
import { createClient as createWsClient } from 'graphql-ws';

/** The gateway: VITE_GATEWAY_URL, default http://127.0.0.1:4000/graphql; subscriptions on the same path over ws. */
export const GATEWAY_URL: string = import.meta.env.VITE_GATEWAY_URL || 'http://127.0.0.1:4000/graphql';
const WS_URL = GATEWAY_URL.replace(/^http(s?):\/\//, 'ws$1://');

/** Fired each time the subscription socket (re)connects, so live pages can refetch what they may have missed. */
export const socketEvents = new EventTarget();
export const SOCKET_CONNECTED = 'connected';

/** The gateway refused the token (expired, revoked, signed with another secret): the session is over. */
const refused = (error: CombinedError): boolean =>
  error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED') || (error.response as { status?: number } | undefined)?.status === 401;

/**
 * urql with its document cache (a mutation result refetches the queries that show the same types),
 * HTTP for queries and mutations, graphql-ws for subscriptions. One client per token. When the
 * gateway refuses the token (UNAUTHENTICATED, HTTP 401, or the socket closed with 4401),
 * onSessionRefused is called once.
 */
export function createGraphQLClient(token: string | null, onSessionRefused: () => void = () => undefined): { client: Client; dispose(): void } {
  const authorization = token ? `Bearer ${token}` : undefined;
  let told = false;
  const sessionRefused = () => {
    if (!authorization || told) return;
    told = true;
    onSessionRefused();
  };
  const ws = createWsClient({
    url: WS_URL,
    connectionParams: authorization ? { authorization } : {},
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: (event) => !(event && typeof event === 'object' && 'code' in event && event.code === 4401),
    on: {
      connected: () => socketEvents.dispatchEvent(new Event(SOCKET_CONNECTED)),
      closed: (event) => {
        if (event && typeof event === 'object' && 'code' in event && event.code === 4401) sessionRefused();
      },
    },
  });
  const client = new Client({
    url: GATEWAY_URL,
    requestPolicy: 'cache-and-network',
    // POST always: the gateway's CSRF prevention refuses simple GET requests (and APQ is not used here).
    preferGetMethod: false,
    fetchOptions: (): RequestInit => (authorization ? { headers: { authorization } } : {}),
    exchanges: [
      mapExchange({
        onError(error) {
          if (refused(error)) sessionRefused();
        },
      }),
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
