import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import { EVENT_VERSION, type EventEnvelope, type EventPayload, type EventType } from '@shop/schema';
import type { SubgraphName } from './config.js';
import { signInternalIdentity, type Identity } from './identity.js';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Machine } from './state-machine/machine.js';
import { databaseUrl } from './config.js';
import { openDatabase, type DatabaseOptions } from './db.js';
import { idFloor, newId, type IdPrefix } from './ids.js';
import { subgraphAt } from './server.js';

/** Helpers for tests that talk to a running subgraph over HTTP, as the gateway would. */
export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [k: string]: unknown } }[];
}

/** The subgraph an in-process test server at `url` is (forwarded identities are signed for it). */
function audienceOf(url: string): SubgraphName {
  const name = subgraphAt(url);
  if (!name) throw new Error(`no subgraph started in this process answers at ${url}`);
  return name;
}

export async function callSubgraph<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  identity?: Identity,
  extraHeaders: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-correlation-id': randomUUID(), ...extraHeaders };
  if (identity) headers['x-shop-identity'] = await signInternalIdentity(identity, audienceOf(url));
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as GraphQLResponse<T>;
}

/** First error code of a response, or undefined. */
export const errorCode = (response: GraphQLResponse<unknown>): string | undefined => response.errors?.[0]?.extensions?.code;

export const user = (userId = `u_${randomUUID().slice(0, 8)}`): Identity => ({ userId, roles: [] });
export const admin = (userId = `admin_${randomUUID().slice(0, 8)}`): Identity => ({ userId, roles: ['admin'] });

/** Polls until `check` returns a value (not undefined) or the bound passes; never a bare sleep. */
export async function eventually<T>(check: () => Promise<T | undefined>, { timeoutMs = 10_000, intervalMs = 50 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
}

/**
 * The cases of a spec that walks a machine's whole table: one per pair of states, each checking
 * that the table allows exactly the listed moves and that `check` refuses every other one with
 * an error `isRefusal` recognises.
 */
export function machineCases<S extends string, F>(
  machine: Machine<S, F>,
  allowed: readonly (readonly [S, S])[],
  facts: (from: S, to: S) => F,
  isRefusal: (error: unknown) => boolean,
): { title: string; run: () => void }[] {
  return machine.pairs().map(({ from, to }) => {
    const expected = allowed.some(([f, t]) => f === from && t === to);
    return {
      title: `${from} → ${to} is ${expected ? 'allowed' : 'refused'}`,
      run() {
        if (machine.can(from, to) !== expected) throw new Error(`the table says ${from} → ${to} is ${expected ? 'refused' : 'allowed'}`);
        let refusal: unknown;
        try {
          machine.check(from, to, facts(from, to));
        } catch (error) {
          refusal = error;
        }
        if (expected && refusal !== undefined) throw new Error(`${from} → ${to} was refused: ${String(refusal)}`);
        if (!expected && !isRefusal(refusal)) throw new Error(`${from} → ${to} was not refused as expected: ${String(refusal)}`);
      },
    };
  });
}

/**
 * Raw SQL for tests that look into the database the way an operator would (the subgraphs query
 * through typed Kysely). Bound to an EntityManager and, inside `em.transactional`, to its transaction.
 * Placeholders are `?`; an array parameter expands to a list, so write `IN (?)` for arrays.
 */
export function sql(em: EntityManager) {
  const conn = em.getConnection();
  const ctx = em.getTransactionContext();
  const all = <T>(query: string, params: readonly unknown[] = []): Promise<T[]> => conn.execute<T[]>(query, params, 'all', ctx);
  return {
    all,
    one: async <T>(query: string, params: readonly unknown[] = []): Promise<T | undefined> => (await all<T>(query, params))[0],
    run: async (query: string, params: readonly unknown[] = []): Promise<number> =>
      (await conn.execute<{ affectedRows: number }>(query, params, 'run', ctx)).affectedRows,
  };
}

/** Whether an error carries this GraphQL error code (`extensions.code`). */
export const hasCode =
  (code: string) =>
  (error: unknown): boolean =>
    (error as { extensions?: { code?: string } } | undefined)?.extensions?.code === code;
/** Every ordering of `items` (n! of them; meant for a saga's handful of events). */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/**
 * Delivers events in the given order through `apply` as the broker would with its retries: an
 * event whose handler throws goes to the back and is delivered again after the others, until all
 * are applied or a round makes no progress. Returns how many deliveries failed on the way.
 */
export async function deliverWithRetries<E>(events: readonly E[], apply: (event: E) => Promise<unknown>, maxRounds = 10): Promise<{ retried: number }> {
  let pending = [...events];
  let retried = 0;
  for (let round = 0; pending.length > 0; round++) {
    if (round >= maxRounds) throw new Error(`${pending.length} event(s) still failing after ${maxRounds} rounds`);
    const failed: E[] = [];
    for (const event of pending) {
      try {
        await apply(event);
      } catch {
        failed.push(event);
      }
    }
    if (failed.length === pending.length && round > 0) throw new Error(`no progress: ${failed.length} event(s) keep failing`);
    retried += failed.length;
    pending = failed;
  }
  return { retried };
}

/** An event as a subgraph's relay would publish it, for tests that deliver events by hand. */
export const envelopeOf = <T extends EventType>(type: T, aggregateId: string, payload: EventPayload<T>, correlationId = 'test'): EventEnvelope<T> => ({
  eventId: newId('evt'),
  type,
  version: EVENT_VERSION[type],
  occurredAt: new Date().toISOString(),
  aggregateId,
  correlationId,
  payload,
});

/** A local port nothing listens on: requests to it are refused at once (a subgraph or store that is down). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An id of `prefix` created at `at`: a UUIDv7's time prefix for that moment, random bits after it. */
export const idAt = (prefix: IdPrefix, at: Date): string => idFloor(prefix, at).slice(0, prefix.length + 13) + randomBytes(10).toString('hex');

/** The relations the plan of `query` scans (with its parameters bound, as the application sends it). */
export async function scannedRelations(em: EntityManager, query: string, params: readonly unknown[] = []): Promise<string[]> {
  const plan = await sql(em).all<{ 'QUERY PLAN': string }>(`EXPLAIN ${query}`, params);
  return plan.flatMap((l) => /(?<!Bitmap Index )Scan(?: Backward)? (?:using \S+ )?on (\S+)/.exec(l['QUERY PLAN'])?.[1] ?? []);
}

/**
 * A migration tested on a database with rows: applies every migration of `database` but the last
 * `newest` to a scratch database, lets `seed` write rows as the older schema has them, then applies
 * the rest. Answers the ORM on the migrated database and `drop`, which closes it and drops the database.
 */
export async function migratedWithRows(
  database: DatabaseOptions,
  newest: number,
  seed: (em: EntityManager) => Promise<void>,
): Promise<{ orm: MikroORM; drop(): Promise<void> }> {
  const url = new URL(databaseUrl());
  const base = url.toString();
  url.pathname = `${url.pathname}_rows_${randomBytes(3).toString('hex')}`;
  const older = await openDatabase({ ...database, url: url.toString(), migrate: true, migrations: database.migrations.slice(0, -newest) });
  try {
    await seed(older.em.fork());
  } finally {
    await older.close();
  }
  const orm = await openDatabase({ ...database, url: url.toString(), migrate: true });
  return {
    orm,
    async drop() {
      await orm.close();
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      try {
        // SQL string: dropping a database is outside any schema the builders describe.
        await admin.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** The partition that holds the row of `table` whose `column` is `value` (undefined: no such row). */
export const partitionOf = async (em: EntityManager, table: string, column: string, value: string): Promise<string | undefined> =>
  // SQL string: the system column tableoid of any table, named by the test; no builder types it.
  (await sql(em).one<{ p: string }>(`SELECT tableoid::regclass::text AS p FROM ${table} WHERE ${column} = ?`, [value]))?.p;
