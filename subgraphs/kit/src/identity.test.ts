import { afterEach, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { DEV_SECRETS } from './config.js';
import { mintClientToken, signInternalIdentity, verifyClientToken, verifyInternalIdentity } from './identity.js';

const VARS = ['CLIENT_TOKEN_MAX_TTL_SECONDS', 'JWT_ISSUER', 'JWT_AUDIENCE'];
afterEach(() => {
  for (const name of VARS) delete process.env[name];
});

const sign = (claims: { iat?: number; exp: number; roles?: string[] }) => {
  const jwt = new SignJWT({ roles: claims.roles ?? [] }).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').setExpirationTime(claims.exp);
  if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
  return jwt.sign(new TextEncoder().encode(DEV_SECRETS.JWT_SECRET));
};
const now = () => Math.floor(Date.now() / 1000);

describe('client tokens', () => {
  it('refuses a token that lives longer than CLIENT_TOKEN_MAX_TTL_SECONDS (default one day)', async () => {
    await expect(verifyClientToken(await sign({ iat: now(), exp: now() + 86_400 }))).resolves.toEqual({ userId: 'u1', roles: [] });
    await expect(verifyClientToken(await sign({ iat: now(), exp: now() + 100 * 365 * 86_400 }))).rejects.toThrow(/the most this server accepts is 86400 s/);
    // Without iat, the lifetime left counts.
    await expect(verifyClientToken(await sign({ exp: now() + 2 * 86_400 }))).rejects.toThrow(/86400 s/);
    process.env.CLIENT_TOKEN_MAX_TTL_SECONDS = '60';
    await expect(verifyClientToken(await mintClientToken({ userId: 'u1', roles: [] }, 3600))).rejects.toThrow(/60 s/);
  });

  it('refuses a token with an internal role', async () => {
    await expect(verifyClientToken(await sign({ iat: now(), exp: now() + 60, roles: ['service'] }))).rejects.toThrow(/role "service"/);
    await expect(verifyClientToken(await sign({ iat: now(), exp: now() + 60, roles: ['admin', 'partner'] }))).resolves.toMatchObject({
      roles: ['admin', 'partner'],
    });
  });

  it('checks iss and aud when JWT_ISSUER / JWT_AUDIENCE are set', async () => {
    const plain = await mintClientToken({ userId: 'u1', roles: [] });
    process.env.JWT_ISSUER = 'https://id.example';
    process.env.JWT_AUDIENCE = 'shop';
    await expect(verifyClientToken(plain)).rejects.toThrow(/not for this server \(its iss claim\)/);
    await expect(verifyClientToken(await mintClientToken({ userId: 'u1', roles: [] }))).resolves.toMatchObject({ userId: 'u1' });
    const listed = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setIssuer('https://id.example')
      .setAudience(['other', 'shop'])
      .setExpirationTime(now() + 60)
      .sign(new TextEncoder().encode(DEV_SECRETS.JWT_SECRET));
    await expect(verifyClientToken(listed)).resolves.toMatchObject({ userId: 'u1' });
  });

  it('refuses an expired token, another secret, another algorithm, no expiry and no signature', async () => {
    await expect(verifyClientToken(await sign({ iat: now() - 120, exp: now() - 60 }))).rejects.toThrow(/has expired/);
    const other = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setExpirationTime(now() + 60)
      .sign(new TextEncoder().encode('another secret of enough length'));
    await expect(verifyClientToken(other)).rejects.toThrow(/not valid/);
    const hs512 = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('u1')
      .setExpirationTime(now() + 60)
      .sign(new TextEncoder().encode(DEV_SECRETS.JWT_SECRET));
    await expect(verifyClientToken(hs512)).rejects.toThrow(/not valid/);
    const noExp = await new SignJWT({ roles: [] }).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').sign(new TextEncoder().encode(DEV_SECRETS.JWT_SECRET));
    await expect(verifyClientToken(noExp)).rejects.toThrow(/not valid/);
    const [, body] = (await sign({ iat: now(), exp: now() + 60 })).split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${body}.`;
    await expect(verifyClientToken(unsigned)).rejects.toThrow(/not valid/);
    await expect(verifyClientToken('not a token')).rejects.toThrow(/not valid/);
  });
});

describe('forwarded identities', () => {
  it('are valid only at the subgraph they were signed for', async () => {
    const token = await signInternalIdentity({ userId: 'u1', roles: [] }, 'order');
    await expect(verifyInternalIdentity(token, 'order')).resolves.toEqual({ userId: 'u1', roles: [] });
    await expect(verifyInternalIdentity(token, 'payment')).rejects.toThrow(/not valid/);
  });

  it('refuses one that expired, another issuer, another secret, or a client token', async () => {
    const forward = (claims: { iss?: string; aud?: string; exp?: number }, secret = DEV_SECRETS.INTERNAL_IDENTITY_SECRET) =>
      new SignJWT({ roles: [] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('u1')
        .setIssuer(claims.iss ?? 'shop-gateway')
        .setAudience(claims.aud ?? 'shop-subgraph:order')
        .setIssuedAt()
        .setExpirationTime(claims.exp ?? now() + 60)
        .sign(new TextEncoder().encode(secret));
    await expect(verifyInternalIdentity(await forward({}), 'order')).resolves.toEqual({ userId: 'u1', roles: [] });
    await expect(verifyInternalIdentity(await forward({ exp: now() - 5 }), 'order')).rejects.toThrow(/not valid/);
    await expect(verifyInternalIdentity(await forward({ iss: 'someone-else' }), 'order')).rejects.toThrow(/not valid/);
    await expect(verifyInternalIdentity(await forward({}, DEV_SECRETS.JWT_SECRET), 'order')).rejects.toThrow(/not valid/);
    await expect(verifyInternalIdentity(await mintClientToken({ userId: 'u1', roles: [] }), 'order')).rejects.toThrow(/not valid/);
  });
});

describe('forwarded identities, signed and verified once per lifetime', () => {
  it('reuses a signed identity per subject and audience, still refuses it for another subgraph, and forgets both caches when the secret changes', async () => {
    const alice = { userId: `u-cache-${Date.now()}`, roles: ['admin'] };
    const first = await signInternalIdentity(alice, 'order');
    expect(await signInternalIdentity(alice, 'order')).toBe(first);
    expect(await signInternalIdentity({ ...alice, roles: [] }, 'order')).not.toBe(first);
    const forInventory = await signInternalIdentity(alice, 'inventory');
    expect(forInventory).not.toBe(first);
    await expect(verifyInternalIdentity(first, 'order')).resolves.toEqual(alice);
    await expect(verifyInternalIdentity(first, 'order')).resolves.toEqual(alice);
    await expect(verifyInternalIdentity(first, 'inventory')).rejects.toThrow(/not valid/);

    const saved = process.env.INTERNAL_IDENTITY_SECRET;
    process.env.INTERNAL_IDENTITY_SECRET = 'another-internal-secret-of-at-least-32-chars';
    try {
      await expect(verifyInternalIdentity(first, 'order')).rejects.toThrow(/not valid/);
      const fresh = await signInternalIdentity(alice, 'order');
      expect(fresh).not.toBe(first);
      await expect(verifyInternalIdentity(fresh, 'order')).resolves.toEqual(alice);
    } finally {
      if (saved === undefined) delete process.env.INTERNAL_IDENTITY_SECRET;
      else process.env.INTERNAL_IDENTITY_SECRET = saved;
    }
  });
});
