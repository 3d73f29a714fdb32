import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createRedis, redisAnswers, redisKeyPrefix, redisUrl } from './redis.js';

describe('the shared Redis connection', () => {
  const client = createRedis({ name: 'kit-test' });
  const unreachable = createRedis({ name: 'kit-test-down', url: 'redis://127.0.0.1:1', commandTimeoutMs: 200 });
  afterAll(() => {
    client.disconnect();
    unreachable.disconnect();
  });

  it("prefixes every key with the run's prefix, so concurrent runs never share a key", async () => {
    expect(redisKeyPrefix()).toBe(`shop:${process.env.SHOP_RUN_ID}:`);
    await client.set('kit:probe', 'here', 'PX', 10_000);
    const raw = new Redis(redisUrl());
    try {
      expect(await raw.get(`shop:${process.env.SHOP_RUN_ID}:kit:probe`)).toBe('here');
      expect(await raw.get('kit:probe')).toBeNull();
    } finally {
      raw.disconnect();
    }
  });

  it('answers a readiness ping when up, and says no in bounded time when down', async () => {
    expect(await redisAnswers(client)).toBe(true);
    const started = Date.now();
    expect(await redisAnswers(unreachable, 300)).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
