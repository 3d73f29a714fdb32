import { decodeJwt } from 'jose';
import { signInternalIdentity, verifyClientToken, type Identity, type SubgraphName } from '@shop/kit';

/** Entries kept at most; past that the map starts again (a burst of new tokens costs one verification each). */
const MAX_ENTRIES = 10_000;

const verified = new Map<string, { identity: Identity; until: number }>();

/**
 * verifyClientToken, remembered per token: an HMAC check per request is most of what an
 * authenticated request costs the gateway itself. Only a token that verified is remembered, until
 * its `exp` (at most a minute), so an expired token is refused exactly as without the memory.
 */
export async function verifiedIdentity(token: string): Promise<Identity> {
  const now = Date.now();
  const known = verified.get(token);
  if (known && known.until > now) return known.identity;
  const identity = await verifyClientToken(token);
  const exp = decodeJwt(token).exp;
  if (verified.size >= MAX_ENTRIES) verified.clear();
  verified.set(token, { identity, until: Math.min((exp ?? 0) * 1000, now + 60_000) });
  return identity;
}

const signed = new Map<string, { token: string; until: number }>();

/**
 * The identity forwarded to one subgraph (signInternalIdentity: 60 s, `aud` that subgraph),
 * signed once per identity and subgraph every 30 s instead of once per subgraph fetch; a reused
 * token still has at least 30 s to live when the subgraph checks it.
 */
export async function signedIdentity(identity: Identity, subgraph: SubgraphName): Promise<string> {
  const now = Date.now();
  const key = `${subgraph}\u0000${identity.userId}\u0000${identity.roles.join(',')}`;
  const known = signed.get(key);
  if (known && known.until > now) return known.token;
  const token = await signInternalIdentity(identity, subgraph);
  if (signed.size >= MAX_ENTRIES) signed.clear();
  signed.set(key, { token, until: now + 30_000 });
  return token;
}
