import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { defineEntity, p as col } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import type { Kysely } from 'kysely';
import { openDatabase } from '../db.js';
import { kysely, sql } from './kysely.js';
import { prepared } from './prepared.js';

class Migration20261203100000_item extends Migration {
  override up(): void {
    this.addSql("CREATE TABLE item (id text PRIMARY KEY, qty int NOT NULL, tags text[] NOT NULL DEFAULT '{}')");
  }
}
const Item = defineEntity({
  name: 'Item',
  tableName: 'item',
  properties: { id: col.string().primary(), qty: col.integer(), tags: col.array() },
});
type Db = { item: { id: string; qty: number; tags: string[] } };

let orm: MikroORM;
const db = (): Kysely<Db> => kysely<Db>(orm.em.fork());
beforeAll(async () => {
  orm = await openDatabase({ schema: 'kit_prepared', entities: [Item], migrations: [Migration20261203100000_item], poolMax: 2 });
});
afterAll(async () => {
  await orm.close();
});

/** Inserts or adds to an item and answers it: the statement's text never changes, only its parameters. */
const upsert = prepared((q: Kysely<Db>, p: { id: string; qty: number; tags: string[] }) =>
  q
    .insertInto('item')
    .values({ id: p.id, qty: p.qty, tags: sql<string[]>`${p.tags}::text[]` })
    .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ qty: eb('item.qty', '+', eb.ref('excluded.qty')) })))
    .returning(['id', 'qty', 'tags']),
);

describe('prepared statements', () => {
  it('builds once and binds each call its own parameters', async () => {
    const id = `a-${Date.now()}`;
    const first = await upsert(db(), { id, qty: 2, tags: ['x'] });
    const second = await upsert(db(), { id, qty: 5, tags: ['y', 'z'] });
    expect(first.rows).toEqual([{ id, qty: 2, tags: ['x'] }]);
    expect(second.rows).toEqual([{ id, qty: 7, tags: ['x'] }]);
    expect(upsert.sqlOf(db(), { id, qty: 1, tags: [] })).toBe(
      'insert into "item" ("id", "qty", "tags") values ($1, $2, $3::text[]) on conflict ("id") do update set "qty" = "item"."qty" + "excluded"."qty" returning "id", "qty", "tags"',
    );
  });

  it('runs in the caller’s transaction', async () => {
    const id = `t-${Date.now()}`;
    await expect(
      orm.em.fork().transactional(async (tx) => {
        await upsert(kysely<Db>(tx), { id, qty: 1, tags: [] });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const left = await db().selectFrom('item').select('id').where('id', '=', id).execute();
    expect(left).toEqual([]);
  });

  it('keeps a constant the build put in the statement, and binds it each time', async () => {
    const doubled = prepared((q: Kysely<Db>, p: { id: string }) =>
      q
        .updateTable('item')
        .set((eb) => ({ qty: eb('qty', '*', 2) }))
        .where('id', '=', p.id)
        .where('qty', '>', 0)
        .returning('qty'),
    );
    const id = `c-${Date.now()}`;
    await upsert(db(), { id, qty: 3, tags: [] });
    expect((await doubled(db(), { id })).rows).toEqual([{ qty: 6 }]);
    expect(doubled.sqlOf(db(), { id })).toContain('"qty" > $');
  });

  it('builds one statement per shape', async () => {
    const many = prepared(
      (q: Kysely<Db>, p: Record<string, string | number>, rows: number) =>
        q
          .insertInto('item')
          .values(Array.from({ length: rows }, (_, i) => ({ id: p[`id${i}`] as string, qty: p[`qty${i}`] as number })))
          .returning('id'),
      (p) => Object.keys(p).length / 2,
    );
    const stamp = Date.now();
    const one = await many(db(), { id0: `s1-${stamp}`, qty0: 1 });
    const two = await many(db(), { id0: `s2-${stamp}`, qty0: 1, id1: `s3-${stamp}`, qty1: 2 });
    expect(one.rows.map((r) => r.id)).toEqual([`s1-${stamp}`]);
    expect(two.rows.map((r) => r.id)).toEqual([`s2-${stamp}`, `s3-${stamp}`]);
    expect(many.sqlOf(db(), { id0: 'x', qty0: 1 })).toContain('values ($1, $2) returning');
  });

  it('refuses a parameter used as a JavaScript value, when the statement is first built', async () => {
    const inText = prepared((q: Kysely<Db>, p: { id: string }) => q.selectFrom('item').select('qty').where('id', '=', `item-${p.id}`));
    await expect(inText(db(), { id: 'x' })).rejects.toThrow('parameter "id" was used as a JavaScript value');
    const inJson = prepared((q: Kysely<Db>, p: { tags: string[] }) =>
      q
        .selectFrom('item')
        .select('id')
        .where('tags', '=', sql<string[]>`${JSON.stringify(p.tags)}`),
    );
    await expect(inJson(db(), { tags: [] })).rejects.toThrow('parameter "tags" was used as a JavaScript value');
    const measured = prepared((q: Kysely<Db>, p: { tags: string[] }) =>
      q
        .selectFrom('item')
        .select('id')
        .where('qty', '=', (p.tags as string[]).length),
    );
    await expect(measured(db(), { tags: [] })).rejects.toThrow('parameter(s) tags read but not bound as values');
  });
});
