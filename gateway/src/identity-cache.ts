import { verifyClientTokenUntil, type Identity } from '@shop/kit';

/** Entries kept at most; past that the map starts again (a burst of new tokens costs one verification each). */
const MAX_ENTRIES = 10_000;

const verified = new Map<string, { identity: Identity; until: number }>();

/**
 * verifyClientToken (kit identity.ts), remembered per token: an HMAC check per request is most of what an
 * authenticated request costs the gateway itself. Only a token that verified is remembered, until
 * its `exp` (at most a minute), so an expired token is refused exactly as without the memory.
 */
export async function verifiedIdentity(token: string): Promise<Identity> {
  const now = Date.now();
  const known = verified.get(token);
  if (known && known.until > now) return known.identity;
  const { identity, expiresAt } = await verifyClientTokenUntil(token);
  if (verified.size >= MAX_ENTRIES) verified.clear();
  verified.set(token, { identity, until: Math.min(expiresAt, now + 60_000) });
  return identity;
}
