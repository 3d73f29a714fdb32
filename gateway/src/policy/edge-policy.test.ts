import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { edgePolicy } from './edge-policy.js';

const BODY = 'query PartnerPing { __typename }';
const ID = createHash('sha256').update(BODY).digest('hex');
const policy = edgePolicy({ partnerOperations: new Map([[ID, BODY]]) });
const partner = { userId: 'p1', roles: ['partner'] };
const byId = (hash: string, query?: string) => ({ query, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });

afterEach(() => {
  delete process.env.GATEWAY_TRUST_PROXY;
});

describe('edge policy: admission', () => {
  it('lets everyone but partners through unchanged', () => {
    expect(policy.admit(undefined, { query: '{ products { edges { cursor } } }' })).toEqual({});
    expect(policy.admit({ userId: 'u', roles: ['admin'] }, { query: 'mutation { x }' })).toEqual({});
  });

  it('gives a partner the text of a safelisted id, or refuses with the right code', () => {
    expect(policy.admit(partner, byId(ID))).toEqual({ query: BODY });
    expect(policy.admit(partner, byId(ID, ''))).toEqual({ query: BODY });
    expect(policy.admit(partner, { query: BODY })).toEqual({ query: BODY });
    expect(policy.admit(partner, byId('0'.repeat(64)))).toMatchObject({ code: 'PERSISTED_QUERY_NOT_FOUND', status: 200 });
    expect(policy.admit(partner, { query: '{ cart { subtotal { amount } } }' })).toMatchObject({ code: 'PERSISTED_QUERY_NOT_ALLOWED', status: 400 });
    expect(policy.admit(partner, byId(ID, '{ cart { subtotal { amount } } }'))).toMatchObject({ code: 'PERSISTED_QUERY_NOT_ALLOWED' });
    expect(policy.admit(partner, { extensions: JSON.stringify(byId(ID).extensions) })).toEqual({ query: BODY });
  });
});

describe('edge policy: client facts', () => {
  const socket = { remoteAddress: '10.1.2.3' };
  it('takes the socket address, and x-forwarded-for only behind a trusted proxy', () => {
    expect(policy.clientFacts({ headers: { 'x-forwarded-for': '1.1.1.1' }, socket })).toEqual({ clientIp: '10.1.2.3', deviceId: undefined });
    process.env.GATEWAY_TRUST_PROXY = '1';
    expect(policy.clientFacts({ headers: { 'x-forwarded-for': '1.1.1.1, 10.0.0.1' }, socket }).clientIp).toBe('1.1.1.1');
  });

  it('takes the device from x-device-id, or from graphql-ws connectionParams', () => {
    expect(policy.clientFacts({ headers: { 'x-device-id': 'd-h' }, socket }, { deviceId: 'd-ws' }).deviceId).toBe('d-h');
    expect(policy.clientFacts({ headers: {}, socket }, { deviceId: 'd-ws' }).deviceId).toBe('d-ws');
    expect(policy.clientFacts({ headers: {}, socket }, { deviceId: 42 }).deviceId).toBeUndefined();
    expect(policy.clientFacts({ headers: {}, socket }, { deviceId: 'x'.repeat(500) }).deviceId).toHaveLength(128);
  });
});
