import type { EntityManager } from '@mikro-orm/postgresql';
import type { InferKyselyDB } from '@mikro-orm/sql';
import { sql, type ColumnType, type Kysely, type RawBuilder } from 'kysely';

export {
  sql,
  type Expression,
  type ExpressionBuilder,
  type ExpressionWrapper,
  type Generated,
  type GeneratedAlways,
  type Kysely,
  type QueryCreator,
  type Selectable,
  type SqlBool,
} from 'kysely';

type HasDate<T> = [Extract<T, Date>] extends [never] ? false : true;
type AsRead<T> = T extends Date ? string : T;
/**
 * Timestamps come back from PostgreSQL as the driver's text (MikroORM turns off pg's date parsing
 * and converts only when it hydrates entities), so a selected timestamp is typed as a string; a
 * Date or an ISO string is what one writes, and an ISO string what one compares with.
 */
type ReadAsDriverReturns<C> = [C] extends [ColumnType<infer S, infer I, infer U>]
  ? HasDate<S> extends true
    ? ColumnType<AsRead<S>, I | string, U | string>
    : C
  : HasDate<C> extends true
    ? ColumnType<AsRead<C>, C | string, C | string>
    : C;

/** The Kysely database type of a subgraph, inferred from its entities (table and column names as in SQL). */
export type KyselyDb<Entities extends readonly { name: string }[]> = {
  [T in keyof InferKyselyDB<Entities[number]>]: { [C in keyof InferKyselyDB<Entities[number]>[T]]: ReadAsDriverReturns<InferKyselyDB<Entities[number]>[T][C]> };
};

/**
 * MikroORM's Kysely bound to `em`: inside `em.transactional`, to its transaction. Every query built
 * with it is checked against the entities, so a renamed column breaks the build.
 */
export const kysely = <Db>(em: EntityManager): Kysely<Db> => em.getKysely<Db>() as unknown as Kysely<Db>;

/** A JSON(B) value to write: the driver would turn a JavaScript array into a PostgreSQL array. */
export const json = <T>(value: T): RawBuilder<T> => sql<T>`${JSON.stringify(value)}::jsonb`;

/**
 * Takes a transaction-scoped advisory lock on a key (serialises work on something that is not a
 * row, such as the coupon uses of one user): `SELECT pg_advisory_xact_lock(hashtext(key))`.
 */
export async function advisoryXactLock(tx: EntityManager, key: string): Promise<void> {
  await kysely<Record<string, never>>(tx)
    .selectNoFrom((eb) => eb.fn('pg_advisory_xact_lock', [eb.fn('hashtext', [eb.val(key)])]).as('locked'))
    .execute();
}

export { jsonArrayFrom } from 'kysely/helpers/postgres';

/** The database's clock: `now()` is the transaction's start (a Date to write, the driver's text to compare with). */
export const dbNow = <T extends Date | string = Date>(): RawBuilder<T> => sql<T>`now()`;
/** The database's clock at this statement: `clock_timestamp()`. */
export const dbClock = (): RawBuilder<Date> => sql<Date>`clock_timestamp()`;
/** A moment `seconds` before the database's `now()`, to compare timestamps with. */
export const dbSecondsAgo = (seconds: number): RawBuilder<string> => sql<string>`now() - ${seconds} * interval '1 second'`;
