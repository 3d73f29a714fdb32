import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase, type DatabaseOptions } from '../db.js';

type Described = DatabaseOptions & { migrationsDir: string };

/**
 * What MikroORM would still have to change: `database` is the SQL that takes the migrated schema
 * to the entities; `snapshot` says whether the checked-in snapshot differs from the entities. Both
 * are empty when the entities, the migrations and the snapshot describe the same tables.
 */
export async function schemaDrift(database: Described): Promise<{ database: string; snapshot: string }> {
  const orm = await openDatabase(database, { snapshot: true });
  try {
    const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false, schema: database.schema });
    const snapshot = (await orm.migrator.checkSchema()) ? `the snapshot in ${database.migrationsDir} differs from the entities` : '';
    return { database: diff.trim(), snapshot };
  } finally {
    await orm.close();
  }
}

/**
 * Generates the migration that takes the snapshot to the entities (the SQL MikroORM's migrator
 * writes), and refreshes the snapshot. Answers the new file's name, or null when nothing changed.
 */
export async function generateMigration(database: Described, name?: string): Promise<string | null> {
  const orm = await openDatabase(database, { snapshot: true });
  try {
    const result = await orm.migrator.create(database.migrationsDir, false, false, name);
    if (!result.fileName) return null;
    // Subgraphs import the migration base class through the kit, as the hand-written ones do.
    const file = join(database.migrationsDir, result.fileName);
    await writeFile(file, (await readFile(file, 'utf8')).replace(`from '@mikro-orm/migrations'`, `from '@shop/kit'`));
    await registerMigration(database.migrationsDir, result.fileName.replace(/\.ts$/, ''));
    return result.fileName;
  } finally {
    await orm.close();
  }
}

/** Lists a new migration last in the subgraph's `migrations/index.ts` (its import and its place in `migrations`). */
async function registerMigration(dir: string, name: string): Promise<void> {
  const index = join(dir, 'index.ts');
  const text = await readFile(index, 'utf8');
  const list = /export const migrations = \[([\s\S]*?)\];/.exec(text);
  if (!list) throw new Error(`${index} has no \`export const migrations = [...]\`: add ${name} to it by hand`);
  const imports = [...text.matchAll(/^import .*;$/gm)];
  const lastImport = imports[imports.length - 1];
  const importLine = `import { ${name} } from './${name}.js';\n`;
  const at = lastImport ? lastImport.index + lastImport[0].length + 1 : 0;
  const withImport = text.slice(0, at) + importLine + text.slice(at);
  await writeFile(index, withImport.replace(list[0], `export const migrations = [${list[1]!.trimEnd().replace(/,$/, '')}, ${name}];`));
}

/** Writes the snapshot of the entities as they are (for a schema whose migrations already match them). */
export async function writeSnapshot(database: Described): Promise<string> {
  const orm = await openDatabase(database, { snapshot: true });
  try {
    const file = join(database.migrationsDir, `.snapshot-${database.schema}.json`);
    await writeFile(file, `${JSON.stringify(orm.schema.getTargetSchema(database.schema), null, 2)}\n`);
    return file;
  } finally {
    await orm.close();
  }
}
