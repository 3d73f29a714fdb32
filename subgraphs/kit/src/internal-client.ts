import { subgraphUrl, type SubgraphName } from './config.js';
import { CORRELATION_HEADER, IDENTITY_HEADER, serviceIdentity, signInternalIdentity } from './identity.js';
import { withTimeout } from './readiness.js';

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
 * A documented synchronous call from one subgraph to another's internal HTTP endpoint, signed
 * with the caller's service identity, with a timeout. Answers the parsed JSON body of a 2xx.
 */
export async function callInternal<T>(caller: string, target: SubgraphName, path: string, body: unknown, correlationId: string, timeoutMs = 3000): Promise<T> {
  const response = await withTimeout(
    fetch(`${subgraphBase(target)}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [IDENTITY_HEADER]: await signInternalIdentity(serviceIdentity(caller), target),
        [CORRELATION_HEADER]: correlationId,
      },
      body: JSON.stringify(body),
    }),
    timeoutMs,
    `${target} did not answer ${path} within ${timeoutMs} ms`,
  );
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) throw new InternalCallError(`${target} answered ${response.status} to ${path}`, response.status, parsed);
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
  const response = await withTimeout(
    fetch(subgraphUrl(target), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [IDENTITY_HEADER]: await signInternalIdentity(serviceIdentity(caller), target),
        [CORRELATION_HEADER]: correlationId,
      },
      body: JSON.stringify({
        query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${typename} { id ${selection} } } }`,
        variables: { r: unique.map((id) => ({ __typename: typename, id })) },
      }),
    }),
    timeoutMs,
    `${target} did not answer within ${timeoutMs} ms`,
  );
  if (!response.ok) throw new InternalCallError(`${target} answered HTTP ${response.status}`, response.status);
  const body = (await response.json()) as { data?: { _entities: ((T & { id: string }) | null)[] }; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new InternalCallError(`${target} lookup failed: ${body.errors?.[0]?.message ?? 'no data'}`);
  return new Map(body.data._entities.filter((e): e is T & { id: string } => e !== null).map((e) => [e.id, e]));
}
