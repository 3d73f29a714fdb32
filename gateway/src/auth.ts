import { randomUUID } from 'node:crypto';
import { CORRELATION_HEADER, unauthenticated, verifyClientToken, type Identity } from '@shop/kit';

/** What the gateway knows about a request before planning it: who calls, and the id that follows it. */
export interface GatewayContext {
  identity?: Identity;
  correlationId: string;
}

/**
 * The identity behind an `Authorization` value (HTTP header, or graphql-ws connectionParams.authorization).
 * No value: anonymous (undefined). Anything else that is not a valid `Bearer <JWT>`: UNAUTHENTICATED.
 */
export async function identityFromAuthorization(authorization: unknown): Promise<Identity | undefined> {
  if (authorization === undefined || authorization === null || authorization === '') return undefined;
  if (typeof authorization !== 'string') throw unauthenticated('The authorization value must be a string "Bearer <token>"');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw unauthenticated('The authorization header must be "Bearer <token>"');
  return verifyClientToken(match[1]!);
}

const SAFE_CORRELATION = /^[\w.:-]{1,100}$/;

/** The caller's correlation id when it is a sane token, otherwise a fresh one. */
export function correlationIdFrom(headers: Record<string, string | string[] | undefined>): string {
  const value = headers[CORRELATION_HEADER];
  return typeof value === 'string' && SAFE_CORRELATION.test(value) ? value : randomUUID();
}
