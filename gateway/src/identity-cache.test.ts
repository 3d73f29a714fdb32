import { describe, expect, it } from 'vitest';
import { mintClientToken } from '@shop/kit';
import { user } from '@shop/kit/testing';
import { verifiedIdentity } from './identity-cache.js';

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
});
