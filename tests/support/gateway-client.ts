import { mintClientToken } from '@shop/kit';
import type { GraphQLResponse } from '@shop/kit/testing';

/** A client of the gateway as an app would be one: bearer JWT, GraphQL over HTTP. */
export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T> & { status: number }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as GraphQLResponse<T>) };
}

export const tokenFor = (userId: string, roles: string[] = []) => mintClientToken({ userId, roles });
