import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { defineEntity, p } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import { openDatabase } from '../db.js';
import { registry } from '../metrics.js';
import { Migration20261124000000_messaging } from '../messaging/migration.js';
import type { MessagingDb } from '../messaging/outbox.js';
import { messagingEntities } from '../persistence/messaging-entities.js';
import { kysely, type Kysely, type KyselyDb } from '../persistence/kysely.js';
import { applyTransition, applyTransitions, lockRow, type StoredMachine } from './apply.js';
import { defineMachine } from './machine.js';

class Migration20261124000200_door extends Migration {
  override up(): void {
    this.addSql(`CREATE TABLE door (id text PRIMARY KEY, state text NOT NULL, version integer NOT NULL DEFAULT 1, note text)`);
    this.addSql(
      `CREATE TABLE door_event (id bigserial PRIMARY KEY, door_id text NOT NULL, from_state text NOT NULL, to_state text NOT NULL, version integer NOT NULL)`,
    );
  }
}
const DoorEntity = defineEntity({
  name: 'Door',
  tableName: 'door',
  properties: { id: p.text().primary(), state: p.enum(['OPEN', 'CLOSED', 'LOCKED']), version: p.integer().default(1), note: p.text().nullable() },
});
const DoorEventEntity = defineEntity({
  name: 'DoorEvent',
  tableName: 'door_event',
  properties: { id: p.bigint('string').primary().autoincrement(), doorId: p.text(), fromState: p.text(), toState: p.text(), version: p.integer() },
});
const entities = [...messagingEntities, DoorEntity, DoorEventEntity] as const;
type Db = KyselyDb<typeof entities>;
type State = 'OPEN' | 'CLOSED' | 'LOCKED';

const doorMachine = defineMachine<State, { key: boolean }>({
  name: 'door',
  states: ['OPEN', 'CLOSED', 'LOCKED'],
  transitions: { OPEN: ['CLOSED'], CLOSED: ['OPEN', 'LOCKED'], LOCKED: ['CLOSED'] },
  guards: [({ from }, { key }) => (from === 'LOCKED' && !key ? 'it takes the key' : null)],
  refuse: (message) => new Error(`refused: ${message}`),
});
const storedDoor: StoredMachine<Db, 'door', State, { key: boolean }> = {
  machine: doorMachine,
  table: 'door',
  key: 'id',
  status: 'state',
  version: 'version',
  audit: async (tx, { id, from, to, after }) => {
    await kysely<Db>(tx).insertInto('door_event').values({ door_id: id, from_state: from, to_state: to, version: after.version }).execute();
  },
  event: ({ id, to }) => ({ type: 'fulfillment.order-shipped', aggregateId: id, correlationId: `door:${to}`, payload: { orderId: id } }),
};

/** The same door, its audit row given instead of written: update, audit row and event in one statement. */
const storedDoorInOne: StoredMachine<Db, 'door', State, { key: boolean }> = {
  ...storedDoor,
  audit: undefined,
  auditRow: ({ id, from, to, after }) => ({ table: 'door_event', values: { door_id: id, from_state: from, to_state: to, version: after.version } }),
};

let orm: MikroORM;
beforeAll(async () => {
  orm = await openDatabase({ schema: 'kit_machine', entities, migrations: [Migration20261124000000_messaging, Migration20261124000200_door] });
});
afterAll(async () => {
  await orm?.close();
});

const newDoor = async (state: State = 'OPEN') => {
  const id = `door_${Math.random().toString(36).slice(2)}`;
  await kysely<Db>(orm.em.fork()).insertInto('door').values({ id, state }).execute();
  return id;
};
const moveWith =
  (stored: typeof storedDoor) =>
  (id: string, to: State, options: { key?: boolean; onlyFrom?: State[] } = {}) =>
    orm.em
      .fork()
      .transactional((tx) =>
        applyTransition(tx, stored, { id, to, facts: { key: options.key ?? false }, onlyFrom: options.onlyFrom, set: { note: `to ${to}` } }),
      );
const trail = (id: string) =>
  kysely<Db>(orm.em.fork()).selectFrom('door_event').select(['from_state', 'to_state', 'version']).where('door_id', '=', id).orderBy('id').execute();
const outbox = (id: string) =>
  kysely<MessagingDb>(orm.em.fork())
    .selectFrom('outbox')
    .select('body')
    .where('body', '@>', JSON.stringify({ aggregateId: id }))
    .execute();

describe.each([
  ['its audit written by the machine', storedDoor],
  ['its audit row given (one statement)', storedDoorInOne],
])('applyTransition, %s', (_, stored) => {
  const move = moveWith(stored);
  it('moves, bumps the version, sets the extra columns, audits and writes the event, in one transaction', async () => {
    const id = await newDoor();
    const result = await move(id, 'CLOSED');
    expect(result.changed).toBe(true);
    expect(result.row).toMatchObject({ id, state: 'CLOSED', version: 2, note: 'to CLOSED' });
    expect(await trail(id)).toEqual([{ from_state: 'OPEN', to_state: 'CLOSED', version: 2 }]);
    expect((await outbox(id)).map((r) => (r.body as { correlationId: string }).correlationId)).toEqual(['door:CLOSED']);
  });

  it('refuses a move the table or a guard forbids, and writes nothing', async () => {
    const id = await newDoor('CLOSED');
    await expect(move(id, 'CLOSED')).rejects.toThrow(/refused: door .* in status CLOSED cannot become CLOSED/);
    await move(id, 'LOCKED');
    await expect(move(id, 'CLOSED')).rejects.toThrow(/it takes the key/);
    expect((await move(id, 'CLOSED', { key: true })).row.version).toBe(3);
    expect((await trail(id)).map((t) => t.to_state)).toEqual(['LOCKED', 'CLOSED']);
  });

  it('with onlyFrom, leaves a row in another state alone', async () => {
    const id = await newDoor('OPEN');
    const result = await move(id, 'OPEN', { onlyFrom: ['CLOSED'] });
    expect(result).toMatchObject({ changed: false, row: { state: 'OPEN', version: 1 } });
    expect(await trail(id)).toEqual([]);
  });

  it('serialises concurrent moves of one row: one wins, the other sees its result', async () => {
    const id = await newDoor('OPEN');
    const results = await Promise.allSettled([move(id, 'CLOSED'), move(id, 'CLOSED')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(await trail(id)).toHaveLength(1);
  });

  it('refuses a locked row that changed since the caller read it (a stale version)', async () => {
    const id = await newDoor('OPEN');
    await expect(
      orm.em.fork().transactional(async (tx) => {
        const locked = (await lockRow(tx, stored, id))!;
        await kysely<Db>(tx).updateTable('door').set({ version: 7 }).where('id', '=', id).execute();
        return applyTransition(tx, stored, { id, to: 'CLOSED', locked, facts: { key: false } });
      }),
    ).rejects.toThrow(/changed under its row lock/);
    // Nothing of the refused move stays: the transaction rolled back the audit row and the event with it.
    expect(await trail(id)).toEqual([]);
    expect(await outbox(id)).toEqual([]);
  });

  it('moves only inside a transaction', async () => {
    const id = await newDoor('OPEN');
    await expect(applyTransition(orm.em.fork(), stored, { id, to: 'CLOSED', facts: { key: false } })).rejects.toThrow(/inside a transaction/);
  });
});

describe('applyTransition with the audit row given', () => {
  const statements = async () => (await registry.getSingleMetric('db_statements_total')!.get()).values.reduce((n, v) => n + v.value, 0);
  it('sends the lock and one statement, where the machine writing its audit sends four', async () => {
    const counted = async (stored: typeof storedDoor) => {
      const id = await newDoor();
      const before = await statements();
      await moveWith(stored)(id, 'CLOSED');
      return (await statements()) - before;
    };
    expect(await counted(storedDoor)).toBe(4); // lock, update, audit insert, outbox insert
    expect(await counted(storedDoorInOne)).toBe(2); // lock, then the update with its audit row and event
  });
});

describe('applyTransition with the row the caller expects (not locked)', () => {
  const statements = async () => (await registry.getSingleMetric('db_statements_total')!.get()).values.reduce((n, v) => n + v.value, 0);
  const read = async (id: string) => (await kysely<Db>(orm.em.fork()).selectFrom('door').selectAll().where('id', '=', id).executeTakeFirst())!;
  const moveExpecting = (id: string, to: State, expected: Awaited<ReturnType<typeof read>>, options: { key?: boolean; onlyFrom?: State[] } = {}) =>
    orm.em
      .fork()
      .transactional((tx) => applyTransition(tx, storedDoorInOne, { id, to, expected, facts: { key: options.key ?? false }, onlyFrom: options.onlyFrom }));

  it('moves as it is expected in one statement, without the lock', async () => {
    const id = await newDoor('OPEN');
    const expected = await read(id);
    const before = await statements();
    const result = await moveExpecting(id, 'CLOSED', expected);
    expect((await statements()) - before).toBe(1);
    expect(result).toMatchObject({ changed: true, row: { state: 'CLOSED', version: 2 } });
    expect(await trail(id)).toEqual([{ from_state: 'OPEN', to_state: 'CLOSED', version: 2 }]);
    expect(await outbox(id)).toHaveLength(1);
  });

  it('decides on the locked row when it changed since: no audit row or event of the missed guess stays', async () => {
    const id = await newDoor('OPEN');
    const stale = await read(id);
    await moveWith(storedDoorInOne)(id, 'CLOSED'); // someone else moved it: version 2, CLOSED
    // Still allowed from where it is now (CLOSED → LOCKED): the move happens on the locked row.
    const result = await moveExpecting(id, 'LOCKED', stale);
    expect(result).toMatchObject({ changed: true, row: { state: 'LOCKED', version: 3 } });
    expect(await trail(id)).toEqual([
      { from_state: 'OPEN', to_state: 'CLOSED', version: 2 },
      { from_state: 'CLOSED', to_state: 'LOCKED', version: 3 },
    ]);
    expect(await outbox(id)).toHaveLength(2);
  });

  it('with onlyFrom, answers a row that left the expected state unchanged', async () => {
    const id = await newDoor('OPEN');
    const stale = await read(id);
    await moveWith(storedDoorInOne)(id, 'CLOSED');
    const result = await moveExpecting(id, 'CLOSED', stale, { onlyFrom: ['OPEN'] });
    expect(result).toMatchObject({ changed: false, row: { state: 'CLOSED', version: 2 } });
    expect(await trail(id)).toHaveLength(1);
  });

  it('refuses on the row as it is when the expected one would not allow the move', async () => {
    const id = await newDoor('LOCKED');
    const expected = await read(id);
    await expect(moveExpecting(id, 'CLOSED', expected)).rejects.toThrow(/it takes the key/);
    expect(await trail(id)).toEqual([]);
  });
});

describe('applyTransition with a write alongside', () => {
  const statements = async () => (await registry.getSingleMetric('db_statements_total')!.get()).values.reduce((n, v) => n + v.value, 0);
  /** Notes another door (two updates of one row in one statement would not both take effect). */
  const note = (id: string) => (db: Kysely<any>) => db.updateTable('door').set({ note: 'alongside' }).where('id', '=', id);

  it.each([
    ['one statement, from the row expected', storedDoorInOne, true, 1],
    ['one statement after the lock', storedDoorInOne, false, 2],
    ['a statement of its own, for a machine writing its audit', storedDoor, false, 5],
  ] as const)('runs the write with the move: %s', async (_, stored, expecting, sent) => {
    const [id, other] = [await newDoor('OPEN'), await newDoor('OPEN')];
    const expected = expecting ? await kysely<Db>(orm.em.fork()).selectFrom('door').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
    const before = await statements();
    await orm.em.fork().transactional((tx) => applyTransition(tx, stored, { id, to: 'CLOSED', expected, facts: { key: false }, alongside: note(other) }));
    expect((await statements()) - before).toBe(sent);
    expect((await kysely<Db>(orm.em.fork()).selectFrom('door').select('state').where('id', '=', id).executeTakeFirst())?.state).toBe('CLOSED');
    expect((await kysely<Db>(orm.em.fork()).selectFrom('door').select('note').where('id', '=', other).executeTakeFirst())?.note).toBe('alongside');
  });

  it('runs it also when the row is not in onlyFrom', async () => {
    const [id, other] = [await newDoor('CLOSED'), await newDoor('OPEN')];
    const result = await orm.em
      .fork()
      .transactional((tx) => applyTransition(tx, storedDoorInOne, { id, to: 'CLOSED', onlyFrom: ['OPEN'], facts: { key: false }, alongside: note(other) }));
    expect(result.changed).toBe(false);
    expect((await kysely<Db>(orm.em.fork()).selectFrom('door').select('note').where('id', '=', other).executeTakeFirst())?.note).toBe('alongside');
  });
});

describe('applyTransitions: many moves in one call', () => {
  const statements = async () => (await registry.getSingleMetric('db_statements_total')!.get()).values.reduce((n, v) => n + v.value, 0);
  const read = async (id: string) => (await kysely<Db>(orm.em.fork()).selectFrom('door').selectAll().where('id', '=', id).executeTakeFirst())!;
  const note = (id: string) => (db: Kysely<any>) =>
    db
      .updateTable('door')
      .set({ note: `alongside ${id}` })
      .where('id', '=', id);
  const notes = async (ids: string[]) =>
    (await kysely<Db>(orm.em.fork()).selectFrom('door').select(['id', 'note']).where('id', 'in', ids).execute()).map((r) => r.note).sort();

  it('moves the rows their callers expect with one statement per power of two of each target, answering each in order', async () => {
    // 7 doors closing (4 + 2 + 1 statements) and 2 locking (1 statement), interleaved.
    const ids = await Promise.all(Array.from({ length: 9 }, (_, i) => newDoor(i % 4 === 3 ? 'CLOSED' : 'OPEN')));
    const others = await Promise.all(ids.map(() => newDoor('OPEN')));
    const expected = await Promise.all(ids.map(read));
    const before = await statements();
    const results = await orm.em.fork().transactional((tx) =>
      applyTransitions(
        tx,
        storedDoorInOne,
        ids.map((id, i) => ({
          id,
          to: expected[i]!.state === 'OPEN' ? 'CLOSED' : 'LOCKED',
          expected: expected[i],
          facts: { key: false },
          alongside: note(others[i]!),
        })),
      ),
    );
    expect((await statements()) - before).toBe(4);
    expect(results.map((r) => [r.changed, r.row.id, r.row.state, r.row.version])).toEqual(
      ids.map((id, i) => [true, id, expected[i]!.state === 'OPEN' ? 'CLOSED' : 'LOCKED', 2]),
    );
    for (const [i, id] of ids.entries()) {
      expect(await trail(id)).toEqual([{ from_state: expected[i]!.state, to_state: results[i]!.row.state, version: 2 }]);
      expect(await outbox(id)).toHaveLength(1);
    }
    expect(await notes(others)).toEqual(others.map((o) => `alongside ${o}`).sort());
  });

  it('decides under the lock, one by one, the rows that changed since, the rows it cannot move unlocked, and a refusal', async () => {
    const [fresh, changed, unexpected, stays] = [await newDoor('OPEN'), await newDoor('OPEN'), await newDoor('CLOSED'), await newDoor('OPEN')];
    const [freshRow, staleRow, staysRow] = [await read(fresh), await read(changed), await read(stays)];
    await moveWith(storedDoorInOne)(changed, 'CLOSED'); // moved by someone else since: version 2, CLOSED
    const results = await orm.em.fork().transactional((tx) =>
      applyTransitions(tx, storedDoorInOne, [
        { id: fresh, to: 'CLOSED', expected: freshRow, facts: { key: false } },
        // Still allowed from where it is now (CLOSED → LOCKED): it moves on the locked row.
        { id: changed, to: 'LOCKED', expected: staleRow, facts: { key: false } },
        { id: unexpected, to: 'LOCKED', facts: { key: false } },
        { id: stays, to: 'CLOSED', expected: staysRow, onlyFrom: ['CLOSED'], facts: { key: false } },
      ]),
    );
    expect(results.map((r) => [r.changed, r.row.state, r.row.version])).toEqual([
      [true, 'CLOSED', 2],
      [true, 'LOCKED', 3],
      [true, 'LOCKED', 2],
      [false, 'OPEN', 1],
    ]);
    expect((await trail(changed)).map((t) => t.to_state)).toEqual(['CLOSED', 'LOCKED']);
    expect(await outbox(changed)).toHaveLength(2);
    expect(await trail(stays)).toEqual([]);

    // A move the machine refuses fails the call, and the caller's transaction rolls back every move of it.
    const [a, b] = [await newDoor('OPEN'), await newDoor('LOCKED')];
    const [rowA, rowB] = [await read(a), await read(b)];
    await expect(
      orm.em.fork().transactional((tx) =>
        applyTransitions(tx, storedDoorInOne, [
          { id: a, to: 'CLOSED', expected: rowA, facts: { key: false } },
          { id: b, to: 'CLOSED', expected: rowB, facts: { key: false } },
        ]),
      ),
    ).rejects.toThrow(/it takes the key/);
    expect((await read(a)).state).toBe('OPEN');
    expect(await trail(a)).toEqual([]);
  });

  it('moves only inside a transaction', async () => {
    await expect(applyTransitions(orm.em.fork(), storedDoorInOne, [])).rejects.toThrow(/inside a transaction/);
  });
});
