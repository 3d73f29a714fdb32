import http from 'node:http';
import https from 'node:https';
import { keepAliveTimeoutMs, subgraphUrl, type SubgraphName } from './config.js';
import { CORRELATION_HEADER, IDENTITY_HEADER, serviceIdentity, signInternalIdentity } from './identity.js';

/** Base URL of a subgraph (its GraphQL URL without /graphql). */
export const subgraphBase = (name: SubgraphName): string => subgraphUrl(name).replace(/\/graphql$/, '');

export class InternalCallError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/**
 * Connections of the calls between subgraphs: kept alive and reused (a call does not open a TCP
 * connection of its own, and as many at once as calls are in flight, like fetch), idle ones closed
 * a second before the server's keep-alive timeout would (HTTP_KEEPALIVE_TIMEOUT_MS, config.ts), so
 * the server never closes one under a request. Plain
 * http.request rather than fetch: no web streams between the socket and the JSON, which the
 * placement path pays for on every call (issue 11's profiles).
 */
const idleSocketMs = Math.max(1_000, keepAliveTimeoutMs() - 1_000);
const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: idleSocketMs }),
  'https:': new https.Agent({ keepAlive: true, timeout: idleSocketMs }),
};

/** POSTs JSON and answers the status and body text; the request is abandoned after `timeoutMs` with `timeoutMessage`. */
function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  timeoutMessage: string,
): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      target,
      {
        method: 'POST',
        agent: agents[target.protocol as keyof typeof agents],
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        response.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      },
    );
    const timer = setTimeout(() => request.destroy(new Error(timeoutMessage)), timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body);
  });
}

/**
 * A documented synchronous call from one subgraph to another's internal HTTP endpoint, signed
 * with the caller's service identity, with a timeout. Answers the parsed JSON body of a 2xx.
 */
export async function callInternal<T>(caller: string, target: SubgraphName, path: string, body: unknown, correlationId: string, timeoutMs = 3000): Promise<T> {
  const response = await postJson(
    `${subgraphBase(target)}${path}`,
    { [IDENTITY_HEADER]: await signInternalIdentity(serviceIdentity(caller), target), [CORRELATION_HEADER]: correlationId },
    JSON.stringify(body),
    timeoutMs,
    `${target} did not answer ${path} within ${timeoutMs} ms`,
  );
  const parsed = response.text ? (JSON.parse(response.text) as unknown) : undefined;
  if (response.status < 200 || response.status >= 300) throw new InternalCallError(`${target} answered ${response.status} to ${path}`, response.status, parsed);
  return parsed as T;
}

/** A federation `_entities` read against another subgraph with the caller's service identity. */
export async function fetchEntities<T>(
  caller: string,
  target: SubgraphName,
  typename: string,
  ids: readonly string[],
  selection: string,
  correlationId: string,
  timeoutMs = 3000,
): Promise<Map<string, T>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const response = await postJson(
    subgraphUrl(target),
    { [IDENTITY_HEADER]: await signInternalIdentity(serviceIdentity(caller), target), [CORRELATION_HEADER]: correlationId },
    JSON.stringify({
      query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${typename} { id ${selection} } } }`,
      variables: { r: unique.map((id) => ({ __typename: typename, id })) },
    }),
    timeoutMs,
    `${target} did not answer within ${timeoutMs} ms`,
  );
  if (response.status < 200 || response.status >= 300) throw new InternalCallError(`${target} answered HTTP ${response.status}`, response.status);
  const body = JSON.parse(response.text) as { data?: { _entities: ((T & { id: string }) | null)[] }; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new InternalCallError(`${target} lookup failed: ${body.errors?.[0]?.message ?? 'no data'}`);
  return new Map(body.data._entities.filter((e): e is T & { id: string } => e !== null).map((e) => [e.id, e]));
}
