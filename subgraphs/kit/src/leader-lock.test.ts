import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { leaderLock, type LeaderLock } from './leader-lock.js';

const locks: LeaderLock[] = [];
const lock = (name: string) => {
  const l = leaderLock(name, process.env.DATABASE_URL);
  locks.push(l);
  return l;
};
afterEach(async () => {
  for (const l of locks.splice(0)) await l.release();
});

describe('leaderLock', () => {
  it('lets one holder lead at a time, and the next take over when it releases', async () => {
    const name = `test:${randomUUID()}`;
    const [a, b] = [lock(name), lock(name)];
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await a.acquire()).toBe(true);
    await a.release();
    expect(await b.acquire()).toBe(true);
    expect(await a.acquire()).toBe(false);
  });

  it('hands over when the leader’s database session ends, and the old leader knows it lost', async () => {
    const name = `test:${randomUUID()}`;
    const [a, b] = [lock(name), lock(name)];
    expect(await a.acquire()).toBe(true);
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    try {
      const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [`leader:${name}`]);
      expect(killed.rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    expect(await b.acquire()).toBe(true);
    expect(await a.acquire()).toBe(false);
  });
});
