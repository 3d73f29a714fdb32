import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { defineEntity, p } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import { databaseUrl } from './config.js';
import { migrateOnStart, openDatabase, poolIdleTimeoutMs } from './db.js';
import { eventually } from './testing.js';
import { kysely } from './persistence/kysely.js';
import { classifyStatement, dbStatements, dbTransactions } from './statement-counter.js';

class Migration20261124000100_first extends Migration {
  override up(): void {
    this.addSql('CREATE TABLE probe (id text PRIMARY KEY)');
  }
}
class Migration20261124000200_second extends Migration {
  override up(): void {
    this.addSql('ALTER TABLE probe ADD COLUMN note text');
  }
}
const Probe = defineEntity({ name: 'Probe', tableName: 'probe', properties: { id: p.string().primary() } });
const options = (schema: string, migrations: (typeof Migration20261124000100_first)[]) => ({ schema, entities: [Probe], migrations, poolMax: 2 });

const saved = { MIGRATE_ON_START: process.env.MIGRATE_ON_START, NODE_ENV: process.env.NODE_ENV, DB_POOL_IDLE_TIMEOUT_MS: process.env.DB_POOL_IDLE_TIMEOUT_MS };
afterEach(() => {
  for (const [k, v] of Object.entries(saved))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
});

describe('migrations at start or as a step', () => {
  it('migrates at start by default, but not with NODE_ENV=production, and MIGRATE_ON_START decides when set', () => {
    delete process.env.MIGRATE_ON_START;
    process.env.NODE_ENV = 'test';
    expect(migrateOnStart()).toBe(true);
    process.env.NODE_ENV = 'production';
    expect(migrateOnStart()).toBe(false);
    process.env.MIGRATE_ON_START = 'true';
    expect(migrateOnStart()).toBe(true);
    process.env.MIGRATE_ON_START = 'no';
    expect(() => migrateOnStart()).toThrow(/MIGRATE_ON_START must be true or false/);
  });

  it('with migrations off, refuses a schema never migrated and one with a pending migration, naming it, and opens one up to date', async () => {
    const schema = `kit_db_${Date.now().toString(36)}`;
    await expect(openDatabase({ ...options(schema, [Migration20261124000100_first]), migrate: false })).rejects.toThrow(
      /pending migrations \(all\).*npm run migrate/,
    );
    await (await openDatabase({ ...options(schema, [Migration20261124000100_first]), migrate: true })).close();
    const both = [Migration20261124000100_first, Migration20261124000200_second];
    await expect(openDatabase({ ...options(schema, both), migrate: false })).rejects.toThrow(/Migration20261124000200_second/);
    await (await openDatabase({ ...options(schema, both), migrate: true })).close();
    const orm = await openDatabase({ ...options(schema, both), migrate: false });
    await orm.close();
  });
});

describe('statement and transaction counters (db_statements_total, db_transactions_total)', () => {
  const value = async (counter: typeof dbStatements) => (await counter.get()).values[0]?.value ?? 0;

  it('classifies transaction control apart from statements', () => {
    expect(['BEGIN', 'begin isolation level serializable', 'START TRANSACTION'].map(classifyStatement)).toEqual(['begin', 'begin', 'begin']);
    expect(['commit', 'ROLLBACK', 'end'].map(classifyStatement)).toEqual(['end', 'end', 'end']);
    expect(['savepoint s1', 'release savepoint s1', 'rollback to savepoint s1'].map(classifyStatement)).toEqual(['control', 'control', 'control']);
    expect(['select 1', 'insert into probe values ($1)', 'with x as (select 1) select * from x'].map(classifyStatement)).toEqual([
      'statement',
      'statement',
      'statement',
    ]);
  });

  it('counts each statement of a pooled connection, an explicit transaction once, and a statement outside one as a transaction', async () => {
    const orm = await openDatabase({ ...options(`kit_count_${Date.now().toString(36)}`, [Migration20261124000100_first]), migrate: true });
    try {
      const em = orm.em.fork();
      await kysely<{ probe: { id: string } }>(em).selectFrom('probe').select('id').execute(); // connects the pool
      const [statements, transactions] = [await value(dbStatements), await value(dbTransactions)];
      await em.transactional(async (tx) => {
        await kysely<{ probe: { id: string } }>(tx).insertInto('probe').values({ id: 'a' }).execute();
        await kysely<{ probe: { id: string } }>(tx).insertInto('probe').values({ id: 'b' }).execute();
      });
      await kysely<{ probe: { id: string } }>(em).selectFrom('probe').select('id').execute();
      expect((await value(dbStatements)) - statements).toBe(3);
      expect((await value(dbTransactions)) - transactions).toBe(2);
    } finally {
      await orm.close();
    }
  });
});

describe('pooled connections', () => {
  it("keeps an idle connection for DB_POOL_IDLE_TIMEOUT_MS (5 minutes by default, not pg's 10 s), then closes it", async () => {
    delete process.env.DB_POOL_IDLE_TIMEOUT_MS;
    expect(poolIdleTimeoutMs()).toBe(300_000);
    process.env.DB_POOL_IDLE_TIMEOUT_MS = '300';
    const orm = await openDatabase({ ...options(`kit_idle_${Date.now().toString(36)}`, [Migration20261124000100_first]), migrate: true });
    const observer = new pg.Client({ connectionString: databaseUrl() });
    await observer.connect();
    try {
      // The pooled session's last statement names it in pg_stat_activity while it stays open.
      const marker = `SELECT 'idle-probe-${Date.now()}' AS probe`;
      await orm.em.getConnection().execute(marker);
      const open = async () => (await observer.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = $1', [marker])).rows[0]!.n;
      expect(await open()).toBe(1);
      await eventually(async () => ((await open()) === 0 ? true : undefined), { timeoutMs: 10_000 });
    } finally {
      await observer.end();
      await orm.close();
    }
  });
});
