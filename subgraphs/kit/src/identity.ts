import { webcrypto } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { TokenError, createSigner, createVerifier } from 'fast-jwt';
import { SUBGRAPHS, envInt, secret, type SubgraphName } from './config.js';
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

const INTERNAL_ISSUER = 'shop-gateway';
const INTERNAL_TTL_SECONDS = 60;
/** A forwarded identity names the one subgraph it is for: replayed against another, it is refused. */
const internalAudience = (subgraph: SubgraphName): string => `shop-subgraph:${subgraph}`;

/**
 * Roles only our own services hold (signed with INTERNAL_IDENTITY_SECRET between subgraphs). A client
 * token carrying one is refused at the gateway, whatever signed it.
 */
export const INTERNAL_ROLES: readonly string[] = ['service'];

/** Longest lifetime (exp - iat) of a client token the gateway accepts. Env CLIENT_TOKEN_MAX_TTL_SECONDS, default 1 day. */
export const clientTokenMaxTtlSeconds = (): number => envInt('CLIENT_TOKEN_MAX_TTL_SECONDS', 86_400);
/** Optional `iss` / `aud` that client tokens must carry (JWT_ISSUER, JWT_AUDIENCE); unchecked when unset. */
const clientIssuer = (): string | undefined => process.env.JWT_ISSUER || undefined;
const clientAudience = (): string | undefined => process.env.JWT_AUDIENCE || undefined;

const encode = (value: string): Uint8Array => new TextEncoder().encode(value);

/**
 * What is built from a secret's value (a key, a signer, a verifier), built once per value and kept
 * until the map holds `max` of them: only replaced secrets pile up, so it is then emptied.
 */
function perSecret<V>(max: number, build: (value: string) => V): (value: string) => V {
  const built = new Map<string, V>();
  return (value) => {
    let made = built.get(value);
    if (made === undefined) {
      if (built.size >= max) built.clear();
      made = build(value);
      built.set(value, made);
    }
    return made;
  };
}

/**
 * The HS256 key of a secret, imported once per process (and again only when the secret's value
 * changes): handing jose the raw bytes would import them on every sign.
 */
const hmacKey = perSecret(8, (value) => webcrypto.subtle.importKey('raw', encode(value), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']));

/**
 * Signed forwarded identities, reused while they have at least half their lifetime left: the
 * gateway forwards one per subgraph call and a subgraph signs one per internal call, and a token
 * is valid for any request of its subject to its audience until it expires anyway. Bounded: the
 * map is emptied when it grows past SIGNED_CACHE_MAX entries.
 */
const SIGNED_CACHE_MAX = 10_000;
const signed = new Map<string, { token: string; reuseUntil: number }>();
/** Verified forwarded identities until their expiry, bounded the same way. */
const verified = new Map<string, { identity: Identity; expiresAt: number }>();
let cachedUnder: string | undefined;
/** Both caches hold only what the current INTERNAL_IDENTITY_SECRET signed: a new value empties them. */
function identityCaches() {
  const value = secret('INTERNAL_IDENTITY_SECRET');
  if (value !== cachedUnder) {
    signed.clear();
    verified.clear();
    cachedUnder = value;
  }
  return { signed, verified };
}

/**
 * Forwarded identities are signed and verified with fast-jwt (node:crypto's HMAC, synchronous), as
 * client tokens are (clientVerifier below): a subgraph verifies one for every caller it has not seen
 * in the last minute, and jose's WebCrypto verification cost the order subgraph about 6% of its CPU
 * in a flash sale (npm run bench:flash-sale -- --profile). Built once per secret value (and subgraph).
 */
const internalSigner = perSecret(
  8,
  (value) => createSigner({ key: value, algorithm: 'HS256', noTimestamp: true }) as (payload: Record<string, unknown>) => string,
);
/** One verifier per subgraph, as each checks its own audience. */
const internalVerifiers = Object.fromEntries(
  (Object.keys(SUBGRAPHS) as SubgraphName[]).map((subgraph) => [
    subgraph,
    perSecret(
      8,
      (value) =>
        createVerifier({
          key: value,
          algorithms: ['HS256'],
          allowedAud: internalAudience(subgraph),
          allowedIss: INTERNAL_ISSUER,
          requiredClaims: ['sub', 'exp', 'aud', 'iss'],
          cache: false,
        }) as (token: string) => JWTPayload,
    ),
  ]),
) as Record<SubgraphName, (value: string) => (token: string) => JWTPayload>;

/**
 * Signs the identity the gateway forwards to one subgraph. It is a short-lived HS256 token under a
 * secret only the gateway and subgraphs hold (INTERNAL_IDENTITY_SECRET), not the client's JWT
 * secret: a caller that reaches a subgraph directly cannot make one up, and one subgraph cannot
 * replay what it received against another (the audience names the subgraph).
 */
export async function signInternalIdentity(identity: Identity, subgraph: SubgraphName): Promise<string> {
  const cacheKey = `${subgraph}\u0000${identity.userId}\u0000${identity.roles.join('\u0000')}`;
  const now = Date.now();
  const { signed } = identityCaches();
  const reusable = signed.get(cacheKey);
  if (reusable && reusable.reuseUntil > now) return reusable.token;
  const iat = Math.floor(now / 1000);
  const token = internalSigner(secret('INTERNAL_IDENTITY_SECRET'))({
    sub: identity.userId,
    roles: identity.roles,
    iss: INTERNAL_ISSUER,
    aud: internalAudience(subgraph),
    iat,
    exp: iat + INTERNAL_TTL_SECONDS,
  });
  if (signed.size >= SIGNED_CACHE_MAX) signed.clear();
  signed.set(cacheKey, { token, reuseUntil: now + (INTERNAL_TTL_SECONDS * 1000) / 2 });
  return token;
}

/** Verifies an identity forwarded to `subgraph`; throws UNAUTHENTICATED when it is forged, expired, malformed or for another subgraph. */
export async function verifyInternalIdentity(token: string, subgraph: SubgraphName): Promise<Identity> {
  const cacheKey = `${subgraph}\u0000${token}`;
  const { verified } = identityCaches();
  const known = verified.get(cacheKey);
  if (known && known.expiresAt > Date.now()) return known.identity;
  let payload: JWTPayload;
  try {
    payload = internalVerifiers[subgraph](secret('INTERNAL_IDENTITY_SECRET'))(token);
  } catch (error) {
    if (error instanceof TokenError) throw unauthenticated('The forwarded identity is not valid');
    throw error;
  }
  const identity = toIdentity(payload.sub, payload.roles);
  if (verified.size >= SIGNED_CACHE_MAX) verified.clear();
  verified.set(cacheKey, { identity, expiresAt: payload.exp! * 1000 });
  return identity;
}

/**
 * The client-token verifier of a JWT_SECRET value (fast-jwt, built once per value): every request
 * of a client the gateway has not seen verifies one, and a flash sale is made of such requests
 * (one click per buyer). fast-jwt checks an HS256 signature with node:crypto's HMAC, synchronously
 * (measured on the project's 2-core machine under other load, 5,000 distinct tokens: 46–96 µs a
 * token, against 150–238 µs for jose's WebCrypto verification, which is asynchronous).
 */
const clientVerifier = perSecret(
  8,
  (value) => createVerifier({ key: value, algorithms: ['HS256'], requiredClaims: ['sub', 'exp'], cache: false }) as (token: string) => JWTPayload,
);

/** Whether a claim holds the expected value: `aud` may be a list that includes it (RFC 7519 §4.1.3). */
const claimMatches = (claim: unknown, expected: string): boolean => (Array.isArray(claim) ? claim.includes(expected) : claim === expected);

/**
 * Verifies a client bearer token (CONTRACT.md: HS256 under JWT_SECRET, claims sub, roles, exp; iss
 * and aud when JWT_ISSUER / JWT_AUDIENCE are set). Refused: a token that lives longer than
 * CLIENT_TOKEN_MAX_TTL_SECONDS (from iat, or from now when it has none) and a token carrying an
 * internal role.
 */
export async function verifyClientToken(token: string): Promise<Identity> {
  return (await verifyClientTokenUntil(token)).identity;
}

/** verifyClientToken, and when the token expires (epoch ms, its `exp`): for a caller that remembers verified tokens. */
export async function verifyClientTokenUntil(token: string): Promise<{ identity: Identity; expiresAt: number }> {
  let payload: JWTPayload;
  try {
    payload = clientVerifier(secret('JWT_SECRET'))(token);
  } catch (error) {
    if (error instanceof TokenError && error.code === TokenError.codes.expired) throw unauthenticated('The bearer token has expired: sign in again');
    if (error instanceof TokenError) throw unauthenticated('The bearer token is not valid');
    throw error;
  }
  if (typeof payload.iat !== 'undefined' && typeof payload.iat !== 'number') throw unauthenticated('The bearer token is not valid');
  for (const [claim, expected] of [
    ['iss', clientIssuer()],
    ['aud', clientAudience()],
  ] as const) {
    if (expected !== undefined && !claimMatches(payload[claim], expected))
      throw unauthenticated(`The bearer token is not for this server (its ${claim} claim)`);
  }
  const maxTtl = clientTokenMaxTtlSeconds();
  const lifetime = (payload.exp as number) - (payload.iat ?? Math.floor(Date.now() / 1000));
  if (lifetime > maxTtl) throw unauthenticated(`The bearer token lives ${lifetime} s; the most this server accepts is ${maxTtl} s: sign in again`);
  const identity = toIdentity(payload.sub, payload.roles);
  const internal = identity.roles.find((role) => INTERNAL_ROLES.includes(role));
  if (internal) throw unauthenticated(`The bearer token carries the role "${internal}", which only internal services hold`);
  return { identity, expiresAt: (payload.exp as number) * 1000 };
}

/** Mints a client token (development sign-in, tests, benchmarks), with JWT_ISSUER / JWT_AUDIENCE when set. */
export async function mintClientToken(identity: Identity, ttlSeconds = 3600): Promise<string> {
  const jwt = new SignJWT({ roles: identity.roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(identity.userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
  const issuer = clientIssuer();
  const audience = clientAudience();
  if (issuer) jwt.setIssuer(issuer);
  if (audience) jwt.setAudience(audience);
  return jwt.sign(await hmacKey(secret('JWT_SECRET')));
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
