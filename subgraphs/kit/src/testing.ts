import { randomUUID } from 'node:crypto';
import type { SubgraphName } from './config.js';
import { signInternalIdentity, type Identity } from './identity.js';
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
