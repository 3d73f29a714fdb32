import { describe, expect, it } from 'vitest';
import { mintClientToken, verifyInternalIdentity } from '@shop/kit';
import { user } from '@shop/kit/testing';
import { signedIdentity, verifiedIdentity } from './identity-cache.js';

describe('identity cache', () => {
  it('answers a verified token from memory, and still refuses a forged or expired one every time', async () => {
    const alice = user();
    const token = await mintClientToken(alice);
    expect(await verifiedIdentity(token)).toEqual(alice);
    expect(await verifiedIdentity(token)).toBe(await verifiedIdentity(token));
    const forged = `${token.slice(0, -4)}AAAA`;
    for (let i = 0; i < 2; i++) await expect(verifiedIdentity(forged)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    const expired = await mintClientToken(alice, -60);
    for (let i = 0; i < 2; i++) await expect(verifiedIdentity(expired)).rejects.toThrow(/expired/);
  });

  it('reuses the identity signed for one subgraph, which that subgraph accepts and another refuses', async () => {
    const bob = user();
    const forOrder = await signedIdentity(bob, 'order');
    expect(await signedIdentity(bob, 'order')).toBe(forOrder);
    expect(await verifyInternalIdentity(forOrder, 'order')).toEqual(bob);
    await expect(verifyInternalIdentity(forOrder, 'cart')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect(await signedIdentity(bob, 'cart')).not.toBe(forOrder);
    expect(await signedIdentity({ ...bob, roles: ['admin'] }, 'order')).not.toBe(forOrder);
  });
});
