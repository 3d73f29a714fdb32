import { unauthenticated, type Identity } from '@shop/kit';
import { verifiedIdentity } from './identity-cache.js';

/** What the gateway knows about a request before planning it: who calls, and the id that follows it. */
export interface GatewayContext {
  identity?: Identity;
  correlationId: string;
  /** For risk control: the client's address and the device id it declares (x-device-id). */
  clientIp?: string;
  deviceId?: string;
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
  return verifiedIdentity(match[1]!);
}
