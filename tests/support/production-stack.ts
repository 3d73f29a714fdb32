import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
// @ts-expect-error plain ESM module without types
import { applyRoles } from '../../infra/scripts/db-roles.mjs';
// @ts-expect-error plain ESM module without types
import { startStack } from '../../infra/scripts/stack.mjs';
import { adminClient, relaxRiskRules, type Stack } from './system.js';

export interface ProductionStack extends Stack {
  /** A superuser's connection to the stack's database, for assertions. */
  databaseUrl: string;
  migratorUrl: string;
  appUrl: string;
}

const withUser = (base: URL, user: string, database: string) => {
  const url = new URL(base.toString());
  url.username = user;
  url.password = '';
  url.pathname = `/${database}`;
  return url.toString();
};

/** `npm run migrate` (infra/scripts/migrate.mjs) against databaseUrl; rejects unless it exits 0. */
export function runMigrate(databaseUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['infra/scripts/migrate.mjs'], {
      cwd: new URL('../../', import.meta.url),
      env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm run migrate exited ${code}:\n${output.slice(-3000)}`))));
  });
}

/**
 * The system as docs/production.md deploys it, on this machine: a database owned by a migrator role,
 * `npm run migrate` as that role, then every process with MIGRATE_ON_START=false and a role that has
 * data rights only; `replicas` runs several processes of a kind behind a proxy (infra/scripts/stack.mjs).
 */
export async function productionStack(options: { replicas?: Record<string, number>; env?: Record<string, string> } = {}): Promise<ProductionStack> {
  const suffix = randomBytes(3).toString('hex');
  const base = new URL(process.env.DATABASE_URL!);
  const names = { database: `${base.pathname.slice(1)}_p${suffix}`, migrator: `shop_migrator_${suffix}`, app: `shop_app_${suffix}` };
  const admin = new URL(base.toString());
  admin.pathname = '/postgres';
  const dropAll = () =>
    adminClient(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS "${names.database}" WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS "${names.app}"`);
      await c.query(`DROP ROLE IF EXISTS "${names.migrator}"`);
    });
  const migratorUrl = withUser(base, names.migrator, names.database);
  const appUrl = withUser(base, names.app, names.database);
  let stack: Stack;
  try {
    await applyRoles(admin.toString(), names);
    await runMigrate(migratorUrl);
    stack = await startStack({
      databaseUrl: appUrl,
      runId: `${process.env.SHOP_RUN_ID}${suffix}`,
      env: { LOG_LEVEL: 'warn', MIGRATE_ON_START: 'false', ...options.env },
      replicas: options.replicas,
    });
  } catch (error) {
    await dropAll();
    throw error;
  }
  const stopProcesses = stack.stop;
  await relaxRiskRules(stack.gatewayUrl);
  return {
    ...stack,
    databaseUrl: withUser(base, base.username || 'postgres', names.database),
    migratorUrl,
    appUrl,
    async stop() {
      await stopProcesses();
      await dropAll();
    },
  };
}
