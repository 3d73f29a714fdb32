import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import { defineEntity, p } from '@mikro-orm/core';
import { openDatabase } from './db.js';
import { databaseUrl } from './config.js';
import { watchDatabase } from './liveness.js';
import { messagingMigrations } from './messaging/migration.js';
import { eventually, sql } from './testing.js';

const Probe = defineEntity({ name: 'LivenessProbe', tableName: 'liveness_probe', properties: { id: p.string().primary() } });

let orm: MikroORM;
beforeAll(async () => {
  // One pooled connection and a short idle-in-transaction limit, for this pool only.
  process.env.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = '400';
  process.env.DB_ACQUIRE_TIMEOUT_MS = '300';
  try {
    orm = await openDatabase({ schema: 'kit_liveness', entities: [Probe], migrations: messagingMigrations, poolMax: 1 });
  } finally {
    delete process.env.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS;
    delete process.env.DB_ACQUIRE_TIMEOUT_MS;
  }
});
afterAll(async () => {
  await orm?.close();
});

describe('database liveness', () => {
  it('a transaction left idle is ended by the server and its connection does not leak', async () => {
    let release!: () => void;
    let pid = 0;
    const idle = orm.em.fork().transactional(async (tx) => {
      pid = (await sql(tx).all<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
      await new Promise<void>((resolve) => (release = resolve));
      await sql(tx).run('SELECT 1'); // the server ended this session meanwhile
    });
    const observer = new pg.Client({ connectionString: databaseUrl() });
    await observer.connect();
    try {
      await eventually(async () => (pid ? true : undefined));
      // While the only connection idles in its transaction, the pool hands out nothing: acquisition times out instead of hanging.
      await expect(sql(orm.em.fork()).run('SELECT 1')).rejects.toThrow(/timeout/i);
      await eventually(async () => ((await observer.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 0 ? true : undefined));
    } finally {
      await observer.end();
      release?.();
    }
    await expect(idle).rejects.toThrow();
    expect(await sql(orm.em.fork()).all<{ n: number }>('SELECT 1 AS n')).toEqual([{ n: 1 }]);
  });

  it('reports a wedged pool (the server answers, the pool does not) and recovers when it is freed', async () => {
    const watch = watchDatabase(orm, databaseUrl(), { intervalMs: 50, wedgeMs: 300, probeTimeoutMs: 1000 });
    try {
      await watch.probe();
      expect(watch.state()).toEqual({ live: true });
      // A statement that holds the pool's only connection for a while (a handler stuck on it).
      const stuck = sql(orm.em.fork()).run('SELECT pg_sleep(6)');
      const wedged = await eventually(async () => {
        const s = watch.state();
        return s.live ? undefined : s;
      });
      expect(wedged.reason).toMatch(/connection pool/);
      await stuck;
      await eventually(async () => (watch.state().live ? true : undefined));
    } finally {
      watch.stop();
    }
  }, 60_000);
});
