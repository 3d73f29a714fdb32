import { MikroORM, UnderscoreNamingStrategy, type EntityManager, type Options } from '@mikro-orm/postgresql';
import type { Migration } from '@mikro-orm/migrations';
import { Migrator } from '@mikro-orm/migrations';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { databaseUrl, envInt, isProduction } from './config.js';
import { kysely } from './persistence/kysely.js';
import { logger } from './logger.js';
import { countStatements } from './statement-counter.js';
import { statementCache } from './persistence/statement-cache.js';

export type { EntityManager };

type MigrationClass = new (...args: ConstructorParameters<typeof Migration>) => Migration;

export interface DatabaseOptions {
  /** The Postgres schema this subgraph owns; no other subgraph touches it. */
  schema: string;
  entities: readonly object[];
  /** Checked-in migrations, oldest first. */
  migrations: MigrationClass[];
  url?: string;
  poolMax?: number;
  /** Where the migrations and the schema snapshot are checked in (needed only to generate or check migrations). */
  migrationsDir?: string;
  /** Apply pending migrations (and create the database) on open; default MIGRATE_ON_START. */
  migrate?: boolean;
}

/**
 * MIGRATE_ON_START: whether a process applies migrations itself when it starts. On by default in
 * development and tests; off by default with NODE_ENV=production, where `npm run migrate` runs them
 * with a privileged role and the services connect with a role that has data rights only.
 */
export function migrateOnStart(): boolean {
  const raw = process.env.MIGRATE_ON_START;
  if (raw === undefined || raw === '') return !isProduction();
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`MIGRATE_ON_START must be true or false, got "${raw}"`);
}

/**
 * PostgreSQL's own names for constraints (`<table>_<columns>_fkey`, `_key`, `_check`), so entities
 * describe the constraints the migrations created without naming each one.
 */
export class PostgresNamingStrategy extends UnderscoreNamingStrategy {
  override indexName(tableName: string, columns: string[], type: Parameters<UnderscoreNamingStrategy['indexName']>[2]): string {
    const suffix = { foreign: 'fkey', unique: 'key', index: 'idx', check: 'check' }[type as string];
    if (!suffix) return super.indexName(tableName, columns, type);
    return `${tableName.slice(tableName.indexOf('.') + 1)}_${columns.join('_')}_${suffix}`;
  }
}

/**
 * How long a pooled connection may sit unused before the pool closes it (DB_POOL_IDLE_TIMEOUT_MS,
 * default 5 minutes; 0 keeps it). pg's own default, 10 s, closed every connection after a lull
 * of seconds: the next burst (a flash sale's first second) then opened them all again, each with
 * a new PostgreSQL backend whose caches and prepared statements start empty. `bench:orders`, whose
 * load starts 13 s after its warm-up (the database floor runs between), placed 154 and 143 orders/s
 * with that (placeOrder p95 499 and 483 ms), and 173 and 175 (387 and 338 ms) with this and
 * HTTP_KEEPALIVE_TIMEOUT_MS, alternating in one session.
 */
export const poolIdleTimeoutMs = (): number => envInt('DB_POOL_IDLE_TIMEOUT_MS', 300_000);

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

/** The process's prepared statements (one name per text, shared by its pools). */
const statements = statementCache();

/** Every pool of a subgraph: dead connections released, statements and transactions counted, repeated ones prepared. */
function onPoolCreated(pool: pg.Pool): void {
  releaseDeadConnections(pool);
  countStatements(pool, statements);
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
    // SQL string: no ORM exists yet (it needs the database), and CREATE DATABASE is not a query builder's.
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name}"`); // SQL string: as above
        logger.info({ database: name }, 'created database');
      } catch (error) {
        // Another process created it at the same moment.
        if ((error as { code?: string }).code !== '42P04' && (error as { code?: string }).code !== '23505') throw error;
      }
    }
    // A backstop for every session of our database, not only the pooled ones (which set their own
    // limit): the server ends a session that idles inside a transaction for a minute.
    // SQL string: ALTER DATABASE is DDL on the admin connection, before any ORM exists.
    await client
      .query(`ALTER DATABASE "${name}" SET idle_in_transaction_session_timeout = '60s'`)
      .catch((error: unknown) =>
        logger.warn({ err: error, database: name }, 'could not set the database idle-in-transaction limit (sessions still set their own)'),
      );
  } finally {
    await client.end();
  }
}

/**
 * One subgraph's database: its schema, its entities (the one description of each table) and its
 * migrations, checked in with MikroORM's schema snapshot under `src/migrations` of the package.
 */
export function describeDatabase<const E extends readonly object[]>(
  schema: string,
  entities: E,
  migrations: MigrationClass[],
  moduleUrl: string,
): DatabaseOptions & { entities: E; migrationsDir: string } {
  return { schema, entities, migrations, migrationsDir: fileURLToPath(new URL('../src/migrations', moduleUrl)) };
}

/**
 * Opens the subgraph's ORM. With migrations on (see migrateOnStart), creates the database and the
 * schema and applies pending migrations; with them off, refuses to start while any is pending.
 * With `snapshot`, the migrator also reads the checked-in snapshot (to generate or check migrations).
 */
export async function openDatabase(options: DatabaseOptions, { snapshot = false } = {}): Promise<MikroORM> {
  const url = options.url ?? databaseUrl();
  const migrate = options.migrate ?? migrateOnStart();
  if (migrate) await ensureDatabase(url);
  const orm = await MikroORM.init({
    clientUrl: url,
    // Unqualified SQL (raw queries) resolves to the subgraph's own schema on every pooled connection.
    driverOptions: { options: `-c search_path=${options.schema}`, ...sessionLimits(), onPoolCreated: onPoolCreated },
    schema: options.schema,
    entities: [...options.entities] as NonNullable<Options['entities']>,
    namingStrategy: PostgresNamingStrategy,
    extensions: [Migrator],
    // ensureDatabase() above when migrating; a data-only role may not create databases.
    ensureDatabase: false,
    pool: { min: 0, max: options.poolMax ?? 10, idleTimeoutMillis: poolIdleTimeoutMs() },
    debug: process.env.SQL_DEBUG === '1',
    // SQL functions are written by hand in migrations (the order partitions' maintenance); entities do not describe them.
    schemaGenerator: { ignoreRoutines: true },
    migrations: {
      tableName: 'mikro_orm_migrations',
      schema: options.schema,
      migrationsList: options.migrations.map((cls) => ({ name: cls.name, class: cls })),
      path: options.migrationsDir,
      snapshot,
      snapshotOnMigrate: false,
      snapshotName: `.snapshot-${options.schema}`,
      transactional: true,
      allOrNothing: true,
    },
  });
  if (!migrate) {
    await requireMigrated(orm, url, options.schema);
    return orm;
  }
  // Serialise concurrent start-ups of one subgraph: the first applies the migrations, the others
  // wait on a session advisory lock and then find nothing pending.
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    // SQL strings: a session-level lock and DDL on a plain connection, before the migrator runs.
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`migrate:${options.schema}`]);
    await lock.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
    const applied = await orm.migrator.up();
    if (applied.length > 0) logger.info({ schema: options.schema, migrations: applied.map((m) => m.name) }, 'applied migrations');
  } finally {
    await lock.end();
  }
  return orm;
}

/** With MIGRATE_ON_START=false: start only on a schema `npm run migrate` brought up to date. */
async function requireMigrated(orm: MikroORM, url: string, schema: string): Promise<void> {
  const found = await kysely<Record<string, never>>(orm.em.fork())
    .selectNoFrom((eb) => eb.fn<string | null>('to_regclass', [eb.val(`"${schema}".mikro_orm_migrations`)]).as('t'))
    .executeTakeFirst();
  const pending = found?.t ? (await orm.migrator.getPending()).map((m) => m.name) : ['all'];
  if (pending.length === 0) return;
  await orm.close();
  const where = new URL(url);
  throw new Error(
    `schema "${schema}" of database ${where.pathname.slice(1)} has pending migrations (${pending.join(', ')}) and MIGRATE_ON_START=false: run npm run migrate first`,
  );
}
