import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { defineEntity, p } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import { openDatabase } from '../db.js';
import { batchCommit, groupCommit } from './group-commit.js';

class Migration20261202170000_unit extends Migration {
  override up(): void {
    this.addSql('CREATE TABLE unit (id text PRIMARY KEY, txid bigint NOT NULL)');
  }
}
const Unit = defineEntity({ name: 'Unit', tableName: 'unit', properties: { id: p.string().primary(), txid: p.bigint() } });

let orm: MikroORM;
beforeAll(async () => {
  orm = await openDatabase({ schema: 'kit_group_commit', entities: [Unit], migrations: [Migration20261202170000_unit], poolMax: 4 });
});
afterAll(async () => {
  await orm.close();
});

/** A unit of work: records its id and the transaction it ran in, and answers that transaction id. */
const record = (id: string) => async (tx: EntityManager) => {
  const rows = await tx
    .getConnection()
    .execute<{ txid: string }[]>('INSERT INTO unit (id, txid) VALUES (?, txid_current()) RETURNING txid::text', [id], 'all', tx.getTransactionContext());
  return rows[0]!.txid;
};
const stored = async (ids: string[]) =>
  (await orm.em.getConnection().execute<{ id: string }[]>(`SELECT id FROM unit WHERE id IN (${ids.map(() => '?').join(', ')})`, ids)).map((r) => r.id).sort();

describe('group commit', () => {
  it('runs the first unit at once, alone, and the units that arrive meanwhile in one shared transaction', async () => {
    const batcher = groupCommit({ name: 'test-share', fork: () => orm.em.fork() });
    const ids = Array.from({ length: 9 }, (_, i) => `share-${Date.now()}-${i}`);
    const txids = await Promise.all(ids.map((id) => batcher.run(record(id))));
    expect(await stored(ids)).toEqual([...ids].sort());
    // The first started a transaction of its own; the eight submitted while it ran shared the next one.
    expect(new Set(txids).size).toBe(2);
    expect(txids.slice(1).every((t) => t === txids[1])).toBe(true);
    expect(txids[0]).not.toBe(txids[1]);
  });

  it("runs each unit in its caller's async context, also inside a transaction another unit started (a trace's span, a log's correlation id)", async () => {
    const batcher = groupCommit({ name: 'test-context', fork: () => orm.em.fork() });
    const caller = new AsyncLocalStorage<string>();
    const ids = Array.from({ length: 6 }, (_, i) => `context-${Date.now()}-${i}`);
    const seen = await Promise.all(
      ids.map((id) =>
        caller.run(id, () =>
          batcher.run(async (tx) => {
            await record(id)(tx);
            return caller.getStore();
          }),
        ),
      ),
    );
    expect(seen).toEqual(ids);
  });

  it('caps a shared transaction at maxBatch units', async () => {
    const batcher = groupCommit({ name: 'test-cap', fork: () => orm.em.fork(), maxBatch: 3 });
    const ids = Array.from({ length: 7 }, (_, i) => `cap-${Date.now()}-${i}`);
    const txids = await Promise.all(ids.map((id) => batcher.run(record(id))));
    const sizes = [...txids.reduce((m, t) => m.set(t, (m.get(t) ?? 0) + 1), new Map<string, number>()).values()];
    expect(sizes).toEqual([1, 3, 3]);
  });

  it('isolates a failing unit: the shared transaction is rolled back, the others commit on their own, the failure reaches only its caller', async () => {
    const batcher = groupCommit({ name: 'test-poison', fork: () => orm.em.fork() });
    const stamp = Date.now();
    const first = batcher.run(record(`poison-${stamp}-first`));
    const good = [1, 2, 3].map((i) => `poison-${stamp}-good-${i}`);
    const outcomes = await Promise.allSettled([
      first,
      batcher.run(record(good[0]!)),
      batcher.run(async (tx) => {
        await record(`poison-${stamp}-bad`)(tx);
        throw new Error('this unit is poisoned');
      }),
      batcher.run(record(good[1]!)),
      // A duplicate key fails in the database, not in JavaScript: the shared transaction is aborted too.
      batcher.run(record(`poison-${stamp}-first`)),
      batcher.run(record(good[2]!)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason.message).toBe('this unit is poisoned');
    expect((outcomes[4] as PromiseRejectedResult).reason.message).toMatch(/duplicate key/);
    expect(await stored([`poison-${stamp}-first`, `poison-${stamp}-bad`, ...good])).toEqual([`poison-${stamp}-first`, ...good].sort());
    // Each good unit was committed by a transaction of its own after the shared one failed.
    const txids = outcomes.filter((o): o is PromiseFulfilledResult<string> => o.status === 'fulfilled').map((o) => o.value);
    expect(new Set(txids).size).toBe(4);
  });

  it('batch commit: a group is one call of `many` with its inputs in order; a failed group runs each input again alone', async () => {
    const calls: string[][] = [];
    const batcher = batchCommit<string, string>({
      name: 'test-batch',
      fork: () => orm.em.fork(),
      many: async (tx, ids) => {
        calls.push(ids);
        if (ids.some((id) => id.endsWith('-bad')) && ids.length > 1) throw new Error('a bad one in the group');
        if (ids.length === 1 && ids[0]!.endsWith('-bad')) throw new Error('this unit is bad');
        // One statement for the whole group.
        const rows = await tx
          .getConnection()
          .execute<{ txid: string }[]>(
            `INSERT INTO unit (id, txid) SELECT id, txid_current() FROM jsonb_array_elements_text(?::jsonb) WITH ORDINALITY AS u(id, n) ORDER BY n RETURNING txid::text`,
            [JSON.stringify(ids)],
            'all',
            tx.getTransactionContext(),
          );
        return rows.map((r) => `${r.txid}`);
      },
    });
    const stamp = Date.now();
    const ids = Array.from({ length: 5 }, (_, i) => `batch-${stamp}-${i}`);
    const txids = await Promise.all(ids.map((id) => batcher.run(id)));
    expect(calls).toEqual([[ids[0]], ids.slice(1)]);
    expect(new Set(txids.slice(1)).size).toBe(1);
    expect(await stored(ids)).toEqual([...ids].sort());

    calls.length = 0;
    const again = [`batch-${stamp}-x`, `batch-${stamp}-bad`, `batch-${stamp}-y`, `batch-${stamp}-z`];
    const outcomes = await Promise.allSettled(again.map((id) => batcher.run(id)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('this unit is bad');
    // The first alone, the other three as a group that failed, then each of those alone.
    expect(calls).toEqual([[again[0]], again.slice(1), [again[1]], [again[2]], [again[3]]]);
    expect(await stored(again)).toEqual([again[0], again[2], again[3]].sort());
  });

  it('batch commit: a `many` that answers too few results fails its units', async () => {
    const batcher = batchCommit<string, string>({ name: 'test-batch-count', fork: () => orm.em.fork(), many: async () => [] });
    await expect(batcher.run('x')).rejects.toThrow(/0 results for 1 units/);
  });
});
