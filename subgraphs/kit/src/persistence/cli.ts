import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { generateMigration, writeSnapshot } from './schema-drift.js';
import type { DatabaseOptions } from '../db.js';

const USAGE = `npm run migration -- create <subgraph> [name]   generate the migration from the entities, list it in migrations/index.ts, refresh the snapshot
npm run migration -- snapshot <subgraph>        write the snapshot of the entities as they are`;

/** Generates a subgraph's migrations from its entities with MikroORM's migrator (DATABASE_URL must be reachable). */
async function main([command, subgraph, name]: string[]): Promise<void> {
  if (!subgraph || (command !== 'create' && command !== 'snapshot')) {
    console.error(USAGE);
    process.exit(2);
  }
  const module = (await import(pathToFileURL(join(import.meta.dirname, '../../../', subgraph, 'dist/persistence.js')).href)) as {
    database: DatabaseOptions & { migrationsDir: string };
  };
  if (command === 'snapshot') {
    console.log(`wrote ${await writeSnapshot(module.database)}`);
    return;
  }
  const file = await generateMigration(module.database, name);
  if (!file) console.log('the entities match the snapshot: no migration needed');
  else console.log(`wrote ${join(module.database.migrationsDir, file)} and listed it in ${join(module.database.migrationsDir, 'index.ts')}`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
