import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * One throwaway PostgreSQL database and one RabbitMQ name prefix per test run, so runs on the same
 * machine (a developer's and CI's, or two terminals) never see each other's data or messages.
 */
export default async function setup() {
  const runId = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const base = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const dbName = `shop_test_${runId}`;
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${dbName}`;
  process.env.DATABASE_URL = url.toString();
  process.env.SHOP_RUN_ID = runId;
  process.env.LOG_LEVEL ??= 'error';
  return async () => {
    const client = new pg.Client({ connectionString: base.toString() });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await client.end();
  };
}
