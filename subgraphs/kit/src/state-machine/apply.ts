import type { EntityManager } from '@mikro-orm/postgresql';
import {
  isOperationNodeSource,
  type Compilable,
  type ExpressionBuilder,
  type Kysely,
  type QueryCreator,
  type RawBuilder,
  type Selectable,
  type UpdateObject,
  sql,
} from 'kysely';
import { emit, outboxRow, type AnyEmitOptions } from '../messaging/outbox.js';
import { inPowersOfTwo } from '../persistence/group-commit.js';
import { kysely } from '../persistence/kysely.js';
import type { Machine } from './machine.js';

/** One move as it happened: the row before (locked) and after the update. */
export interface Move<S extends string, Row> {
  id: string;
  from: S;
  to: S;
  before: Row;
  after: Row;
}

type Column<Db, T extends keyof Db> = keyof Db[T] & string;

/** Where a machine's state lives, and what every move of it writes besides the status. */
export interface StoredMachine<Db, T extends keyof Db & string, S extends string, Facts> {
  machine: Machine<S, Facts>;
  table: T;
  key: Column<Db, T>;
  status: Column<Db, T>;
  /** Bumped by every move and checked by its update; a table without one is guarded by the status. */
  version?: Column<Db, T>;
  /** Columns every move also sets (`updated_at`). */
  touch?: () => UpdateObject<Db, T>;
  /** Writes the audit row of a move (one of `audit` and `auditRow`). */
  audit?(tx: EntityManager, move: Move<S, Selectable<Db[T]>>, facts: Facts): Promise<void>;
  /**
   * The audit row of a move, for a machine without `effects`: the update, this row and the outbox
   * event are then written by one statement (a round trip instead of three). The move's `after` is
   * the row as the update will leave it (status, version and the columns the move sets; the
   * `touch` columns still hold their old values).
   */
  auditRow?(move: Move<S, Selectable<Db[T]>>, facts: Facts): { table: string; values: Record<string, unknown> };
  /** Side effects after the state is saved (stock, line states), in the same transaction. */
  effects?(tx: EntityManager, move: Move<S, Selectable<Db[T]>>, facts: Facts): Promise<void>;
  /** The integration event of a move, written to the outbox in the same transaction; none when undefined. */
  event?(move: Move<S, Selectable<Db[T]>>, facts: Facts): AnyEmitOptions | undefined;
}

export interface TransitionRequest<Db, T extends keyof Db & string, S extends string, Facts> {
  id: string;
  to: S;
  facts: Facts;
  /** Move only from these states; a row in another is answered unchanged (idempotent event handling). */
  onlyFrom?: readonly S[];
  /** The row as the caller already locked it (FOR UPDATE) in this transaction; otherwise it is locked here. */
  locked?: Selectable<Db[T]>;
  /**
   * The row as the caller last saw it, not locked (it wrote the row itself a moment ago): a machine
   * that moves in one statement (`auditRow`) then moves without the lock's round trip, guarded by
   * the version (or status) it expects. When the row has changed since, nothing is written and the
   * move is decided as usual, on the row locked.
   */
  expected?: Selectable<Db[T]>;
  /**
   * A write that goes into the move's one statement (a machine with `auditRow`), saving its round
   * trip: withdrawing a deferred event, say (never of the moved row: two updates of one row in one
   * statement do not both take effect). It must be idempotent: when the expected row has changed,
   * it runs again with the move decided under the lock. It runs as a statement of its own for other
   * machines, and when the row is not in `onlyFrom` (no move, the write still happens).
   */
  alongside?: (db: QueryCreator<any>) => Compilable<unknown>;
  /** Other columns this move sets (a cancel reason, a tracking number, ...). */
  set?: UpdateObject<Db, T>;
}

export type TransitionResult<Row> = { changed: boolean; row: Row };

/** The machine's table and columns are checked where the machine is declared; here they are names. */
const untyped = (tx: EntityManager): Kysely<any> => kysely<any>(tx);

/** Locks one row of a machine's table (SELECT ... FOR UPDATE) in the caller's transaction. */
export async function lockRow<Db, T extends keyof Db & string, S extends string, Facts>(
  tx: EntityManager,
  stored: StoredMachine<Db, T, S, Facts>,
  id: string,
): Promise<Selectable<Db[T]> | undefined> {
  const { table, key }: { table: string; key: string } = stored;
  const row = await untyped(tx).selectFrom(table).selectAll().where(key, '=', id).forUpdate().executeTakeFirst();
  return row as Selectable<Db[T]> | undefined;
}

/** A value for an INSERT ... SELECT list: an expression (a `sql` fragment) as it is, anything else a parameter. */
const selected = (eb: ExpressionBuilder<any, any>, value: unknown, column: string) =>
  isOperationNodeSource(value) ? (value as RawBuilder<unknown>).as(column) : eb.val(value).as(column);

/** Inserts `values` once for each row `from` answers (none when the update it names changed nothing). */
const insertFor = (db: QueryCreator<any>, table: string, values: Record<string, unknown>, from: string) => {
  const columns = Object.keys(values).filter((c) => values[c] !== undefined);
  return db
    .insertInto(table)
    .columns(columns)
    .expression((eb) => eb.selectFrom(from).select((s) => columns.map((c) => selected(s, values[c], c))));
};

/**
 * The one function that changes a status, in the caller's transaction: lock the row, check the
 * move against the machine (table and guards), update status and version (refusing a row that
 * changed), write the audit row, run the side effects, and write the outbox event. A machine that
 * gives its audit row (`auditRow`) and has no side effects moves in one statement after the lock,
 * or in one statement without it when the caller says what row it expects (`expected`).
 */
export async function applyTransition<Db, T extends keyof Db & string, S extends string, Facts>(
  tx: EntityManager,
  stored: StoredMachine<Db, T, S, Facts>,
  request: TransitionRequest<Db, T, S, Facts>,
): Promise<TransitionResult<Selectable<Db[T]>>> {
  if (!tx.getTransactionContext()) throw new Error(`a ${stored.machine.name} moves only inside a transaction`);
  const { id, to, facts } = request;
  const oneStatement = stored.auditRow && !stored.effects;
  if (movesAsExpected(stored, request)) {
    // Guarded by what the caller expects; a row that changed since moves nothing and is decided under its lock below.
    const after = await moveInOneStatement(tx, stored, request, request.expected!);
    if (after) return { changed: true, row: after };
  }
  const before = request.locked ?? (await lockRow(tx, stored, id));
  if (!before) throw new Error(`${stored.machine.name} ${id} does not exist`);
  const current = before as Record<string, unknown>;
  const from = current[stored.status] as S;
  if (request.onlyFrom && !request.onlyFrom.includes(from)) {
    await writeAlongside(tx, request);
    return { changed: false, row: before };
  }
  stored.machine.check(from, to, facts, `${stored.machine.name} ${id}`);

  if (oneStatement) {
    // Under the lock the guard cannot miss: a row that changed anyway is a caller's bug, and its transaction rolls back.
    const after = await moveInOneStatement(tx, stored, request, before);
    if (!after) throw new Error(`${stored.machine.name} ${id} changed under its row lock`);
    return { changed: true, row: after };
  }

  await writeAlongside(tx, request);
  const move = moved(stored, request, before, from, await guardedUpdate(stored, request, before)(untyped(tx)).executeTakeFirst());
  if (!stored.audit) throw new Error(`${stored.machine.name} has neither audit nor auditRow`);
  await stored.audit(tx, move, facts);
  await stored.effects?.(tx, move, facts);
  const event = stored.event?.(move, facts);
  if (event) await emit(tx, event);
  return { changed: true, row: move.after };
}

/**
 * Many moves of one machine in the caller's transaction, answered in the requests' order (each as
 * applyTransition answers it). The moves that can go without the lock (`expected`) are written
 * together: one statement for a run of moves to the same status, so a group of them costs a round
 * trip or a few rather than one each. The others, and any whose row changed since the caller saw it,
 * then move one by one under their lock, as applyTransition moves them. The requests move distinct
 * rows, and no alongside write touches a moved row (two updates of one row in one statement do not
 * both take effect).
 */
export async function applyTransitions<Db, T extends keyof Db & string, S extends string, Facts>(
  tx: EntityManager,
  stored: StoredMachine<Db, T, S, Facts>,
  requests: readonly TransitionRequest<Db, T, S, Facts>[],
): Promise<TransitionResult<Selectable<Db[T]>>[]> {
  if (!tx.getTransactionContext()) throw new Error(`a ${stored.machine.name} moves only inside a transaction`);
  const results: (TransitionResult<Selectable<Db[T]>> | undefined)[] = requests.map(() => undefined);
  const together = requests.map((request, i) => i).filter((i) => movesAsExpected(stored, requests[i]!));
  const tried = new Set<number>();
  if (together.length > 1) {
    for (const run of statementRuns(together, (i) => requests[i]!.to)) {
      const rows = await movesInOneStatement(
        tx,
        stored,
        run.map((i) => requests[i]!),
      );
      run.forEach((i, k) => {
        tried.add(i);
        if (rows[k]) results[i] = { changed: true, row: rows[k] };
      });
    }
  }
  for (const [i, request] of requests.entries()) {
    // A move tried above found its row changed (its alongside write already ran, and runs again: it is idempotent): under the lock.
    results[i] ??= await applyTransition(tx, stored, tried.has(i) ? { ...request, expected: undefined } : request);
  }
  return results as TransitionResult<Selectable<Db[T]>>[];
}

/** The moves of one statement: runs of the same target status (each run writes the same columns), cut into powers of two. */
function statementRuns<S>(indices: number[], target: (i: number) => S): number[][] {
  const byTarget = new Map<S, number[]>();
  for (const i of indices) byTarget.set(target(i), [...(byTarget.get(target(i)) ?? []), i]);
  return [...byTarget.values()].flatMap((same) => inPowersOfTwo(same));
}

/** Whether a move can be tried without the lock: one statement, a row the caller expects, and the machine allows the move from it. */
function movesAsExpected<Db, T extends keyof Db & string, S extends string, Facts>(
  stored: StoredMachine<Db, T, S, Facts>,
  request: TransitionRequest<Db, T, S, Facts>,
): boolean {
  if (!stored.auditRow || stored.effects || !request.expected || request.locked) return false;
  const from = (request.expected as Record<string, unknown>)[stored.status] as S;
  return (!request.onlyFrom || request.onlyFrom.includes(from)) && allowed(stored, from, request);
}

/** The request's `alongside` write as a statement of its own (when it cannot go into the move's). */
async function writeAlongside<Db, T extends keyof Db & string, S extends string, Facts>(
  tx: EntityManager,
  request: TransitionRequest<Db, T, S, Facts>,
): Promise<void> {
  if (request.alongside) await untyped(tx).executeQuery(request.alongside(untyped(tx)));
}

/** Whether the machine allows the move from `from` (a refusal is left to the locked path, which reports it on the row as it is). */
function allowed<Db, T extends keyof Db & string, S extends string, Facts>(
  stored: StoredMachine<Db, T, S, Facts>,
  from: S,
  request: TransitionRequest<Db, T, S, Facts>,
): boolean {
  try {
    stored.machine.check(from, request.to, request.facts, `${stored.machine.name} ${request.id}`);
    return true;
  } catch {
    return false;
  }
}

/** The update of a move from `before`: status, version and the request's columns, where the row still is as `before`. */
function guardedUpdate<Db, T extends keyof Db & string, S extends string, Facts>(
  stored: StoredMachine<Db, T, S, Facts>,
  request: TransitionRequest<Db, T, S, Facts>,
  before: Selectable<Db[T]>,
) {
  const current = before as Record<string, unknown>;
  const changes: Record<string, unknown> = { ...stored.touch?.(), ...request.set, [stored.status]: request.to };
  const { table, key, version }: { table: string; key: string; version?: string } = stored;
  const guard = version ?? stored.status;
  return (db: QueryCreator<any>) =>
    db
      .updateTable(table)
      .set((eb) => (version ? { ...changes, [version]: eb(version, '+', 1) } : changes))
      .where(key, '=', request.id)
      .where(guard, '=', current[guard])
      .returningAll();
}

function moved<Db, T extends keyof Db & string, S extends string, Facts>(
  stored: StoredMachine<Db, T, S, Facts>,
  request: TransitionRequest<Db, T, S, Facts>,
  before: Selectable<Db[T]>,
  from: S,
  after: unknown,
): Move<S, Selectable<Db[T]>> {
  if (!after) throw new Error(`${stored.machine.name} ${request.id} changed under its row lock`);
  return { id: request.id, from, to: request.to, before, after: after as Selectable<Db[T]> };
}

/**
 * One statement: the update, the audit row and the event (data-modifying WITHs all run; the two
 * inserts select from the update, so they write nothing when it changed nothing). Answers the row
 * after the move, or undefined when the row was not as `before` says.
 */
async function moveInOneStatement<Db, T extends keyof Db & string, S extends string, Facts>(
  tx: EntityManager,
  stored: StoredMachine<Db, T, S, Facts>,
  request: TransitionRequest<Db, T, S, Facts>,
  before: Selectable<Db[T]>,
): Promise<Selectable<Db[T]> | undefined> {
  const after = await withMove(untyped(tx), stored, request, before, '').selectFrom('moved').selectAll().executeTakeFirst();
  return after as Selectable<Db[T]> | undefined;
}

/**
 * Several moves from the rows their callers expect in one statement: each move's writes (as
 * moveInOneStatement's) under names of its own, and the moved rows answered with their move's
 * index. Answers each move's row after it, or undefined where the row was not as expected.
 */
async function movesInOneStatement<Db, T extends keyof Db & string, S extends string, Facts>(
  tx: EntityManager,
  stored: StoredMachine<Db, T, S, Facts>,
  requests: readonly TransitionRequest<Db, T, S, Facts>[],
): Promise<(Selectable<Db[T]> | undefined)[]> {
  const writes = requests.reduce((db, request, i) => withMove(db, stored, request, request.expected!, `_${i}`), untyped(tx) as QueryCreator<any>);
  // The union's operands name the statement's WITHs; they are built without WITHs of their own.
  const movedOf = (i: number) => untyped(tx).selectFrom(`moved_${i}`).selectAll().select(sql.lit(i).as(MOVE_INDEX));
  const first = writes.selectFrom('moved_0').selectAll().select(sql.lit(0).as(MOVE_INDEX));
  const rows = await requests
    .slice(1)
    .reduce((query, _, k) => query.unionAll(movedOf(k + 1)), first)
    .execute();
  const after: (Selectable<Db[T]> | undefined)[] = requests.map(() => undefined);
  for (const { [MOVE_INDEX]: index, ...row } of rows as Record<string, unknown>[]) after[index as number] = row as Selectable<Db[T]>;
  return after;
}

/** The column that tells which move of a statement a moved row belongs to. */
const MOVE_INDEX = '__move';

/** The WITHs of one move from `before`, named with `suffix`: the alongside write, the guarded update, the audit row and the event. */
function withMove<Db, T extends keyof Db & string, S extends string, Facts>(
  db: QueryCreator<any>,
  stored: StoredMachine<Db, T, S, Facts>,
  request: TransitionRequest<Db, T, S, Facts>,
  before: Selectable<Db[T]>,
  suffix: string,
): QueryCreator<any> {
  const current = before as Record<string, unknown>;
  const from = current[stored.status] as S;
  const { version }: { version?: string } = stored;
  const predicted = { ...current, ...request.set, [stored.status]: request.to, ...(version ? { [version]: (current[version] as number) + 1 } : {}) };
  const move = moved(stored, request, before, from, predicted);
  const audit = stored.auditRow!(move, request.facts);
  const event = stored.event?.(move, request.facts);
  const outbox = event && outboxRow(event);
  const movedName = `moved${suffix}`;
  const first = request.alongside ? db.with(`alongside${suffix}`, (q) => request.alongside!(q) as never) : db;
  const writes = first
    .with(movedName, guardedUpdate(stored, request, before))
    .with(`audit${suffix}`, (q) => insertFor(q, audit.table, audit.values, movedName));
  return outbox ? writes.with(`event${suffix}`, (q) => insertFor(q, 'outbox', outbox.row, movedName)) : writes;
}
