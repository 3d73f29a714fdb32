import { randomUUID } from 'node:crypto';
import { CORRELATION_HEADER, unauthenticated, verifyClientToken, type Identity } from '@shop/kit';

/** What the gateway knows about a request before planning it: who calls, and the id that follows it. */
export interface GatewayContext {
  identity?: Identity;
  correlationId: string;
  /** For risk control: the client's address and the device id it declares (x-device-id). */
  clientIp?: string;
  deviceId?: string;
}

/**
 * The client's address: the socket's, or behind a trusted edge proxy (GATEWAY_TRUST_PROXY=1) the
 * first x-forwarded-for entry, which a client reaching the gateway directly could forge.
 */
export function clientFacts(req: {
  headers: Record<string, string | string[] | undefined>;
  socket: { remoteAddress?: string };
}): Pick<GatewayContext, 'clientIp' | 'deviceId'> {
  const forwarded = req.headers['x-forwarded-for'];
  const proxied = process.env.GATEWAY_TRUST_PROXY === '1' && typeof forwarded === 'string' ? forwarded.split(',')[0]!.trim() : '';
  const device = req.headers['x-device-id'];
  return { clientIp: proxied || req.socket.remoteAddress, deviceId: typeof device === 'string' && device.length > 0 ? device.slice(0, 128) : undefined };
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
