// The two PostgreSQL roles of a production database, as SQL for a database administrator:
//   node infra/scripts/db-roles.mjs --database shop --migrator shop_migrator --app shop_app   prints it
//   ... --apply    runs it through ADMIN_DATABASE_URL (a superuser's connection to any database),
//                  keeping what exists, and sets MIGRATOR_PASSWORD / APP_PASSWORD when given
// The migrator owns the database and runs npm run migrate (it creates schemas and tables); the app
// role, which every service uses, may read and write rows and nothing else. Default privileges give
// the app role its rights on whatever the migrator creates later. Passwords are set separately
// (ALTER ROLE ... PASSWORD, or the variables above), never in this file or its output.
import { parseArgs } from 'node:util';
import pg from 'pg';

const ident = (name) => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`"${name}" is not a plain lower-case SQL identifier`);
  return `"${name}"`;
};

/** Statements to run as a superuser: the cluster-wide part, then the part inside the database. */
export function rolesSql({ database, migrator, app }) {
  const [db, m, a] = [ident(database), ident(migrator), ident(app)];
  return {
    cluster: [
      `CREATE ROLE ${m} LOGIN`,
      `CREATE ROLE ${a} LOGIN`,
      `CREATE DATABASE ${db} OWNER ${m}`,
      `REVOKE ALL ON DATABASE ${db} FROM PUBLIC`,
      `GRANT CONNECT, TEMPORARY ON DATABASE ${db} TO ${a}`,
      // A session of ours that idles inside a transaction is ended by the server, releasing its
      // locks and connection (the services also set it per session: DB_IDLE_IN_TRANSACTION_TIMEOUT_MS).
      `ALTER ROLE ${a} SET idle_in_transaction_session_timeout = '60s'`,
      `ALTER ROLE ${m} SET idle_in_transaction_session_timeout = '60s'`,
    ],
    database: [
      `REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${m} GRANT USAGE ON SCHEMAS TO ${a}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${m} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${a}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${m} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${a}`,
    ],
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      database: { type: 'string', default: 'shop' },
      migrator: { type: 'string', default: 'shop_migrator' },
      app: { type: 'string', default: 'shop_app' },
      apply: { type: 'boolean' },
    },
  });
  const sql = rolesSql(values);
  if (!values.apply) {
    console.log(`-- as a superuser, connected to any database:\n${sql.cluster.map((s) => `${s};`).join('\n')}`);
    console.log(`-- then connected to ${values.database} (psql: \\c ${values.database}):\n${sql.database.map((s) => `${s};`).join('\n')}`);
    console.log(`-- then set passwords: ALTER ROLE ${values.migrator} PASSWORD '...'; ALTER ROLE ${values.app} PASSWORD '...';`);
    return;
  }
  if (!process.env.ADMIN_DATABASE_URL) throw new Error('--apply needs ADMIN_DATABASE_URL (a superuser connection)');
  await applyRoles(process.env.ADMIN_DATABASE_URL, values, { migrator: process.env.MIGRATOR_PASSWORD, app: process.env.APP_PASSWORD });
  console.log(`✓ roles ${values.migrator} (migrations) and ${values.app} (data only) for database ${values.database}`);
}

/**
 * Runs rolesSql through a superuser connection (adminUrl names any database of the cluster). Safe
 * to run again: roles and the database that exist are kept. Passwords, when given, are set.
 */
export async function applyRoles(adminUrl, names, passwords = {}) {
  const sql = rolesSql(names);
  const run = async (url, work) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await work(client);
    } finally {
      await client.end();
    }
  };
  await run(adminUrl, async (client) => {
    const has = async (query, value) => (await client.query(query, [value])).rowCount > 0;
    for (const statement of sql.cluster) {
      const role = /^CREATE ROLE "(\w+)"/.exec(statement)?.[1];
      const database = /^CREATE DATABASE "(\w+)"/.exec(statement)?.[1];
      if (role && (await has('SELECT 1 FROM pg_roles WHERE rolname = $1', role))) continue;
      if (database && (await has('SELECT 1 FROM pg_database WHERE datname = $1', database))) continue;
      await client.query(statement);
    }
    for (const [role, password] of [
      [names.migrator, passwords.migrator],
      [names.app, passwords.app],
    ]) {
      if (password) await client.query(`ALTER ROLE ${ident(role)} PASSWORD ${client.escapeLiteral(password)}`);
    }
  });
  const inDatabase = new URL(adminUrl);
  inDatabase.pathname = `/${names.database}`;
  await run(inDatabase.toString(), async (client) => {
    for (const statement of sql.database) await client.query(statement);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(`✗ ${error.message}`);
    process.exit(1);
  });
}
