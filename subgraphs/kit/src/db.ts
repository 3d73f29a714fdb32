import { MikroORM, type EntityManager, type Options } from '@mikro-orm/postgresql';
import type { Migration } from '@mikro-orm/migrations';
import { Migrator } from '@mikro-orm/migrations';
import pg from 'pg';
import { databaseUrl, envInt } from './config.js';
import { logger } from './logger.js';

export type { EntityManager };

type MigrationClass = new (...args: ConstructorParameters<typeof Migration>) => Migration;

export interface DatabaseOptions {
  /** The Postgres schema this subgraph owns; no other subgraph touches it. */
  schema: string;
  entities: Options['entities'];
  /** Checked-in migrations, oldest first. */
  migrations: MigrationClass[];
  url?: string;
  poolMax?: number;
}

/**
 * Time limits of every database session (README "Configuration"): a pooled connection is handed out
 * within DB_ACQUIRE_TIMEOUT_MS or the call fails (no caller waits forever on a pool whose
 * connections died with the server), a statement runs at most DB_STATEMENT_TIMEOUT_MS, and
 * PostgreSQL ends a session that sits idle inside a transaction for DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
 * which releases its locks and returns the connection (pg drops a connection the server ended).
 */
export function sessionLimits() {
  return {
    connectionTimeoutMillis: envInt('DB_ACQUIRE_TIMEOUT_MS', 30_000),
    statement_timeout: envInt('DB_STATEMENT_TIMEOUT_MS', 30_000),
    idle_in_transaction_session_timeout: envInt('DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 30_000),
    keepAlive: true,
  };
}

/**
 * Gives back to the pool a checked-out connection that the server ended (a restart, the
 * idle-in-transaction limit). The transaction that held it fails, and Kysely's rollback then
 * throws on the dead connection before it releases it, so without this the pool would keep
 * counting it as in use forever: after enough of them every query waits for a connection that
 * never comes (tested in liveness.test.ts).
 */
export function releaseDeadConnections(pool: pg.Pool): void {
  const checkedOut = new Set<pg.PoolClient>();
  pool.on('acquire', (client) => checkedOut.add(client));
  pool.on('release', (_err, client) => checkedOut.delete(client));
  pool.on('connect', (client) => {
    client.on('end', () => {
      if (!checkedOut.has(client)) return;
      checkedOut.delete(client);
      try {
        client.release(new Error('the server ended this connection'));
        logger.warn('a pooled connection ended by the server while in use was released');
      } catch {
        // released meanwhile by its user
      }
    });
  });
}

/** Creates the database named in the URL when it is missing (a fresh machine has only `postgres`). */
export async function ensureDatabase(url = databaseUrl()): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`database name "${name}" must be letters, digits or _`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
        logger.info({ database: name }, 'created database');
      } catch (error) {
        // Another process created it at the same moment.
        if ((error as { code?: string }).code !== '42P04' && (error as { code?: string }).code !== '23505') throw error;
      }
    }
    // A backstop for every session of our database, not only the pooled ones (which set their own
    // limit): the server ends a session that idles inside a transaction for a minute.
    await client.query(`ALTER DATABASE "${name}" SET idle_in_transaction_session_timeout = '60s'`);
  } finally {
    await client.end();
  }
}

/** Opens the subgraph's ORM, creates its schema and applies its pending migrations. */
export async function openDatabase(options: DatabaseOptions): Promise<MikroORM> {
  const url = options.url ?? databaseUrl();
  await ensureDatabase(url);
  const orm = await MikroORM.init({
    clientUrl: url,
    // Unqualified SQL (raw queries) resolves to the subgraph's own schema on every pooled connection.
    driverOptions: { options: `-c search_path=${options.schema}`, ...sessionLimits(), onPoolCreated: releaseDeadConnections },
    schema: options.schema,
    entities: options.entities,
    extensions: [Migrator],
    pool: { min: 0, max: options.poolMax ?? 10 },
    debug: process.env.SQL_DEBUG === '1',
    migrations: {
      tableName: 'mikro_orm_migrations',
      schema: options.schema,
      migrationsList: options.migrations.map((cls) => ({ name: cls.name, class: cls })),
      snapshot: false,
      transactional: true,
      allOrNothing: true,
    },
  });
  // Serialise concurrent start-ups of one subgraph: the first applies the migrations, the others
  // wait on a session advisory lock and then find nothing pending.
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`migrate:${options.schema}`]);
    await lock.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
    const applied = await orm.migrator.up();
    if (applied.length > 0) logger.info({ schema: options.schema, migrations: applied.map((m) => m.name) }, 'applied migrations');
  } finally {
    await lock.end();
  }
  return orm;
}

/**
 * Raw SQL bound to an EntityManager and, inside `em.transactional`, to its transaction.
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
