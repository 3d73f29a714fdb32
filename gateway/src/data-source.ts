import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions, type ServiceEndpointDefinition } from '@apollo/gateway';
import {
  CORRELATION_HEADER,
  IDENTITY_HEADER,
  SUBGRAPHS,
  envInt,
  subgraphUrl,
  type SubgraphName,
  CLIENT_IP_HEADER,
  DEVICE_ID_HEADER,
  signInternalIdentity,
} from '@shop/kit';
import type { GatewayContext } from './auth.js';
import { deduplicateInFlight } from './fast-reads/index.js';
import type { SubgraphHttp } from './subgraph-http.js';

type Fetcher = RemoteGraphQLDataSource['fetcher'];

const isKnownSubgraph = (name: string): name is SubgraphName => Object.hasOwn(SUBGRAPHS, name);

/** Where the gateway sends a subgraph's requests: <NAME>_URL / <NAME>_PORT override the composed routing url. */
export function subgraphEndpoint(name: string, composedUrl: string | undefined): string {
  if (isKnownSubgraph(name)) return subgraphUrl(name);
  if (!composedUrl) throw new Error(`the supergraph has no routing url for subgraph ${name}`);
  return composedUrl;
}

/**
 * A subgraph request carries only what the gateway puts on it: no client header is copied (so a
 * client's own x-shop-identity or Authorization never reaches a subgraph), the verified identity is
 * re-signed with the internal secret for this subgraph only, and the correlation id follows the request.
 */
export class ShopDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    /** The subgraph this source calls: the forwarded identity is signed for it alone. */
    readonly subgraph: SubgraphName,
    config: ConstructorParameters<typeof RemoteGraphQLDataSource<GatewayContext>>[0],
  ) {
    super(config);
  }

  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const headers = options.request.http?.headers;
    if (!headers) return;
    const context = options.context as Partial<GatewayContext>;
    if (context.correlationId) headers.set(CORRELATION_HEADER, context.correlationId);
    if (context.identity) headers.set(IDENTITY_HEADER, await signInternalIdentity(context.identity, this.subgraph));
    if (context.clientIp) headers.set(CLIENT_IP_HEADER, context.clientIp);
    if (context.deviceId) headers.set(DEVICE_ID_HEADER, context.deviceId);
  }
}

const isJson = (contentType: string | null): boolean => /^application\/(graphql-response\+)?json\b/i.test(contentType ?? '');

/**
 * Subgraph fetches with a time bound. A subgraph answers some GraphQL errors with an HTTP status
 * (UNAUTHENTICATED -> 401); the body is still a GraphQL response with the subgraph's own safe message
 * and partial data, so it is read as one instead of being turned into an opaque "401: Unauthorized".
 */
export const subgraphFetcher = (http: Pick<SubgraphHttp, 'fetch'>, timeoutMs = envInt('SUBGRAPH_TIMEOUT_MS', 10_000)): Fetcher =>
  (async (url: string, init?: RequestInit) => {
    const response = await http.fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    if (response.ok || !isJson(response.headers.get('content-type'))) return response;
    const text = await response.text();
    let graphqlAnswer = false;
    try {
      const body = JSON.parse(text) as { errors?: unknown; data?: unknown };
      graphqlAnswer = Array.isArray(body.errors) || body.data !== undefined;
    } catch {
      // not JSON after all: the gateway reports it as a failed fetch
    }
    return new Response(text, { status: graphqlAnswer ? 200 : response.status, statusText: response.statusText, headers: response.headers });
  }) as unknown as Fetcher;

/** Apollo Gateway's `buildService`: one data source per subgraph, fetching over the gateway's pool (subgraph-http.ts). */
export const serviceBuilder =
  (http: Pick<SubgraphHttp, 'fetch'>) =>
  ({ name, url }: ServiceEndpointDefinition): ShopDataSource => {
    if (!isKnownSubgraph(name)) throw new Error(`the supergraph names a subgraph ${name} the gateway does not know: identities are signed per subgraph`);
    return new ShopDataSource(name, {
      url: subgraphEndpoint(name, url),
      fetcher: deduplicateInFlight(name, subgraphFetcher(http) as unknown as Parameters<typeof deduplicateInFlight>[1]) as unknown as Fetcher,
    });
  };
