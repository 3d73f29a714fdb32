import { describe, expect, it, vi } from 'vitest';
import { Migration } from '@mikro-orm/migrations';
import { defineEntity, p } from '@mikro-orm/core';
import { openDatabase } from '../db.js';
import { kysely } from './kysely.js';
import { statementCache } from './statement-cache.js';

describe('statement cache: texts sent often become prepared statements', () => {
  it('names a parameterised text from its third send on, keeps one name for it, bounds the names, and leaves the rest alone', () => {
    const cache = statementCache({ threshold: 3, max: 2 });
    const send = (text: string, values: unknown[] = [1]) => cache.arguments([text, values]);
    expect(send('BEGIN', [])).toEqual(['BEGIN', []]);
    expect(cache.arguments(['COMMIT'])).toEqual(['COMMIT']);
    expect(send('select $1')).toEqual(['select $1', [1]]);
    expect(send('select $1')).toEqual(['select $1', [1]]);
    const [named] = send('select $1', [2]) as [{ name: string; text: string; values: unknown[] }];
    expect(named).toEqual({ name: expect.stringMatching(/^s[\w-]{20}_\d+$/), text: 'select $1', values: [2] });
    expect(send('select $1', [3])).toEqual([{ name: named.name, text: 'select $1', values: [3] }]);
    for (let i = 0; i < 3; i++) send('select $1 + 1');
    // Two names at most: a third text stays a plain one however often it is sent.
    for (let i = 0; i < 5; i++) expect(send('select $1 + 2')).toEqual(['select $1 + 2', [1]]);
    // Another error leaves the name; a refused cached plan gives the text a new one.
    cache.failed([named], Object.assign(new Error('deadlock'), { code: '40P01' }));
    expect(send('select $1')).toEqual([{ name: named.name, text: 'select $1', values: [1] }]);
    cache.failed([named], Object.assign(new Error('cached plan must not change result type'), { code: '0A000' }));
    const [renamed] = send('select $1') as [{ name: string }];
    expect(renamed.name).not.toBe(named.name);
  });

  it('runs them on PostgreSQL as named statements, and after a migration changes what one returns, fails one call and then prepares it anew', async () => {
    class Migration20261203000100_probe extends Migration {
      override up(): void {
        this.addSql(`CREATE TABLE probe (id text PRIMARY KEY)`);
        this.addSql(`INSERT INTO probe VALUES ('a')`);
      }
    }
    const Probe = defineEntity({ name: 'Probe', tableName: 'probe', properties: { id: p.string().primary() } });
    const orm = await openDatabase({
      schema: `kit_stmt_${Date.now().toString(36)}`,
      entities: [Probe],
      migrations: [Migration20261203000100_probe],
      poolMax: 1,
      migrate: true,
    });
    const pool = (await orm.em.getConnection().getNativeClient()) as unknown as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
    const spy = vi.spyOn(pool.Client.prototype, 'query');
    type Probe = { probe: { id: string } };
    const read = () => kysely<Probe>(orm.em.fork()).selectFrom('probe').selectAll().where('id', '=', 'a').execute();
    try {
      for (let i = 0; i < 5; i++) expect(await read()).toEqual([{ id: 'a' }]);
      const names = spy.mock.calls.map(([q]) => (q as { name?: string }).name).filter(Boolean);
      expect(names.length).toBeGreaterThanOrEqual(3);
      expect(new Set(names).size).toBe(1);

      await kysely<Probe>(orm.em.fork()).schema.alterTable('probe').addColumn('note', 'text').execute();
      const failures: string[] = [];
      let rows: unknown[] | undefined;
      for (let attempt = 0; attempt < 3 && !rows; attempt++) rows = await read().catch((error: { code?: string }) => void failures.push(error.code ?? '?'));
      expect(failures).toEqual(['0A000']);
      expect(rows).toEqual([{ id: 'a', note: null }]);
    } finally {
      spy.mockRestore();
      await orm.close();
    }
  });
});
