import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { secret } from './config.js';
import { unauthenticated, forbidden } from './errors.js';

/** Who is calling, as the gateway established it from the client's bearer token. */
export interface Identity {
  userId: string;
  roles: string[];
}

/** Header the gateway sets on every subgraph request of a signed-in client. */
export const IDENTITY_HEADER = 'x-shop-identity';
/** The client's IP address and device id, forwarded by the gateway for risk control. */
export const CLIENT_IP_HEADER = 'x-shop-client-ip';
export const DEVICE_ID_HEADER = 'x-shop-device-id';
/** Correlation id that follows a request through the gateway, subgraphs and events. */
export const CORRELATION_HEADER = 'x-correlation-id';

const INTERNAL_AUDIENCE = 'shop-subgraphs';
const INTERNAL_ISSUER = 'shop-gateway';
const INTERNAL_TTL_SECONDS = 60;

const encode = (value: string): Uint8Array => new TextEncoder().encode(value);

/**
 * Signs the identity the gateway forwards to subgraphs. It is a short-lived HS256 token under a
 * secret only the gateway and subgraphs hold (INTERNAL_IDENTITY_SECRET), not the client's JWT
 * secret: a caller that reaches a subgraph directly cannot make one up.
 */
export async function signInternalIdentity(identity: Identity): Promise<string> {
  return new SignJWT({ roles: identity.roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(identity.userId)
    .setIssuer(INTERNAL_ISSUER)
    .setAudience(INTERNAL_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${INTERNAL_TTL_SECONDS}s`)
    .sign(encode(secret('INTERNAL_IDENTITY_SECRET')));
}

/** Verifies a forwarded identity; throws UNAUTHENTICATED when it is forged, expired or malformed. */
export async function verifyInternalIdentity(token: string): Promise<Identity> {
  try {
    const { payload } = await jwtVerify(token, encode(secret('INTERNAL_IDENTITY_SECRET')), {
      algorithms: ['HS256'],
      audience: INTERNAL_AUDIENCE,
      issuer: INTERNAL_ISSUER,
    });
    return toIdentity(payload.sub, payload.roles);
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) throw unauthenticated('The forwarded identity is not valid');
    throw error;
  }
}

/** Verifies a client bearer token (CONTRACT.md: HS256 under JWT_SECRET, claims sub, roles, exp). */
export async function verifyClientToken(token: string): Promise<Identity> {
  try {
    const { payload } = await jwtVerify(token, encode(secret('JWT_SECRET')), { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] });
    return toIdentity(payload.sub, payload.roles);
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw unauthenticated('The bearer token has expired: sign in again');
    if (error instanceof joseErrors.JOSEError) throw unauthenticated('The bearer token is not valid');
    throw error;
  }
}

/** Mints a client token (development sign-in, tests, benchmarks). */
export async function mintClientToken(identity: Identity, ttlSeconds = 3600): Promise<string> {
  return new SignJWT({ roles: identity.roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(identity.userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(encode(secret('JWT_SECRET')));
}

function toIdentity(sub: unknown, roles: unknown): Identity {
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) throw unauthenticated('The token has no valid subject');
  const list = Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
  return { userId: sub, roles: list };
}

export interface HasIdentity {
  identity?: Identity;
}

export function requireUser(ctx: HasIdentity): Identity {
  if (!ctx.identity) throw unauthenticated();
  return ctx.identity;
}

export const isAdmin = (identity: Identity | undefined): boolean => identity?.roles.includes('admin') ?? false;

export function requireAdmin(ctx: HasIdentity): Identity {
  const identity = requireUser(ctx);
  if (!isAdmin(identity)) throw forbidden('This operation is for administrators only');
  return identity;
}

/** The identity a subgraph uses for its documented synchronous calls to another subgraph. */
export const serviceIdentity = (service: string): Identity => ({ userId: `svc:${service}`, roles: ['service'] });
export const isService = (identity: Identity | undefined): boolean => identity?.roles.includes('service') ?? false;
