import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintClientToken } from '@shop/kit';
import { closedPort, user } from '@shop/kit/testing';
import { createGateway, type Gateway } from '../gateway.js';
import { rateLimitsFromEnv } from './index.js';

const LIMITS = { anonymous: 4, user: 3, partner: 5, window: 60 };
/** Counters of this file's gateways only: other test files' gateways count 127.0.0.1 too. */
const NAMESPACE = `rate-limit-test-${Date.now()}`;
const gateways: Gateway[] = [];
let one: string;
let two: string;
let withoutRedis: string;

beforeAll(async () => {
  // `{ __typename }` is answered by the gateway itself: no subgraph is needed, the limit comes first anyway.
  for (const name of ['CATALOG', 'CART', 'ORDER', 'INVENTORY', 'PAYMENT', 'FULFILLMENT'])
    process.env[`${name}_URL`] = `http://127.0.0.1:${await closedPort()}/graphql`;
  const start = async (options: Parameters<typeof createGateway>[0]) => {
    const gateway = await createGateway(options);
    gateways.push(gateway);
    return (await gateway.start(0)).url;
  };
  // Two replicas sharing Redis (the same key prefix, as every replica of one deployment).
  one = await start({ rateLimits: LIMITS, rateLimitNamespace: NAMESPACE });
  two = await start({ rateLimits: LIMITS, rateLimitNamespace: NAMESPACE });
  withoutRedis = await start({ rateLimits: LIMITS, rateLimitNamespace: NAMESPACE, redisUrl: `redis://127.0.0.1:${await closedPort()}` });
});
afterAll(async () => {
  for (const gateway of gateways) await gateway.stop();
});

async function ask(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as { data?: unknown; errors?: { message: string; extensions: Record<string, unknown> }[] },
  };
}
const bearer = async (identity: { userId: string; roles: string[] }) => ({ authorization: `Bearer ${await mintClientToken(identity)}` });

describe('rate limits per identity, shared by gateway replicas', () => {
  it('counts one user across both gateways, with the standard headers, then answers 429 RATE_LIMITED with a retry hint', async () => {
    const alice = await bearer(user());
    const remaining: string[] = [];
    for (const url of [one, two, one]) {
      const answer = await ask(url, alice);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('ratelimit-limit')).toBe('3');
      expect(answer.headers.get('ratelimit-policy')).toBe('3;w=60');
      remaining.push(answer.headers.get('ratelimit-remaining')!);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const refused = await ask(two, alice);
    expect(refused.status).toBe(429);
    expect(refused.body.data).toBeUndefined();
    expect(refused.body.errors?.[0]?.extensions.code).toBe('RATE_LIMITED');
    const retryAfterMs = refused.body.errors?.[0]?.extensions.retryAfterMs as number;
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(refused.headers.get('retry-after')).toBe(String(retryAfterMs / 1000));
    expect(refused.body.errors?.[0]?.message).toMatch(/try again in \d+ s/);
    // Another user has a budget of their own.
    expect((await ask(one, await bearer(user()))).status).toBe(200);
  });

  it('gives partners their own budget, and anonymous clients one per address', async () => {
    const partner = await bearer({ userId: `partner_${Date.now()}`, roles: ['partner'] });
    expect((await ask(one, partner)).headers.get('ratelimit-limit')).toBe('5');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await ask(i % 2 ? one : two)).status);
    // Four for the address 127.0.0.1 across both replicas, then refused.
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });

  it('still limits, per process, when Redis does not answer, and never refuses for the outage itself', async () => {
    const bob = await bearer(user());
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await ask(withoutRedis, bob)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('refuses a malformed GATEWAY_RATE_LIMITS with the reason', () => {
    expect(rateLimitsFromEnv('user=10, window=30')).toMatchObject({ user: 10, window: 30, partner: 3000 });
    expect(() => rateLimitsFromEnv('users=10')).toThrow(/GATEWAY_RATE_LIMITS: "users=10" is not/);
    expect(() => rateLimitsFromEnv('user=0')).toThrow(/GATEWAY_RATE_LIMITS/);
  });
});
