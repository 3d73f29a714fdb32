import { randomUUID } from 'node:crypto';
import { EVENT_VERSION, type EventEnvelope, type EventPayload, type EventType } from '@shop/schema';
import type { SubgraphName } from './config.js';
import { signInternalIdentity, type Identity } from './identity.js';
import { newId } from './ids.js';
import { subgraphAt } from './server.js';

/** Helpers for tests that talk to a running subgraph over HTTP, as the gateway would. */
export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [k: string]: unknown } }[];
}

/** The subgraph an in-process test server at `url` is (forwarded identities are signed for it). */
function audienceOf(url: string): SubgraphName {
  const name = subgraphAt(url);
  if (!name) throw new Error(`no subgraph started in this process answers at ${url}`);
  return name;
}

export async function callSubgraph<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  identity?: Identity,
  extraHeaders: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-correlation-id': randomUUID(), ...extraHeaders };
  if (identity) headers['x-shop-identity'] = await signInternalIdentity(identity, audienceOf(url));
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as GraphQLResponse<T>;
}

/** First error code of a response, or undefined. */
export const errorCode = (response: GraphQLResponse<unknown>): string | undefined => response.errors?.[0]?.extensions?.code;

export const user = (userId = `u_${randomUUID().slice(0, 8)}`): Identity => ({ userId, roles: [] });
export const admin = (userId = `admin_${randomUUID().slice(0, 8)}`): Identity => ({ userId, roles: ['admin'] });

/** Polls until `check` returns a value (not undefined) or the bound passes; never a bare sleep. */
export async function eventually<T>(check: () => Promise<T | undefined>, { timeoutMs = 10_000, intervalMs = 50 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
}

/** Every ordering of `items` (n! of them; meant for a saga's handful of events). */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/**
 * Delivers events in the given order through `apply` as the broker would with its retries: an
 * event whose handler throws goes to the back and is delivered again after the others, until all
 * are applied or a round makes no progress. Returns how many deliveries failed on the way.
 */
export async function deliverWithRetries<E>(events: readonly E[], apply: (event: E) => Promise<unknown>, maxRounds = 10): Promise<{ retried: number }> {
  let pending = [...events];
  let retried = 0;
  for (let round = 0; pending.length > 0; round++) {
    if (round >= maxRounds) throw new Error(`${pending.length} event(s) still failing after ${maxRounds} rounds`);
    const failed: E[] = [];
    for (const event of pending) {
      try {
        await apply(event);
      } catch {
        failed.push(event);
      }
    }
    if (failed.length === pending.length && round > 0) throw new Error(`no progress: ${failed.length} event(s) keep failing`);
    retried += failed.length;
    pending = failed;
  }
  return { retried };
}

/** An event as a subgraph's relay would publish it, for tests that deliver events by hand. */
export const envelopeOf = <T extends EventType>(type: T, aggregateId: string, payload: EventPayload<T>, correlationId = 'test'): EventEnvelope<T> => ({
  eventId: newId('evt'),
  type,
  version: EVENT_VERSION[type],
  occurredAt: new Date().toISOString(),
  aggregateId,
  correlationId,
  payload,
});
