// `npm run compose`: prints each built subgraph's SDL into schema/<name>.graphql and composes
// schema/supergraph.graphql. Run through the npm script, which builds the subgraphs first.
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SUBGRAPHS, buildAndCompose, builderName, subgraphFile, supergraphFile } from './compose-lib.mjs';

const root = new URL('../', import.meta.url);
const schemaDir = new URL('./', import.meta.url);

const builders = {};
for (const { name } of SUBGRAPHS) {
  const built = new URL(`subgraphs/${name}/dist/schema.js`, root);
  if (!existsSync(built)) {
    console.warn(`warning: skipping ${name}: ${fileURLToPath(built)} does not exist yet`);
    continue;
  }
  const module = await import(pathToFileURL(fileURLToPath(built)).href);
  const build = module[builderName(name)];
  if (typeof build !== 'function') {
    console.error(`error: ${fileURLToPath(built)} does not export ${builderName(name)}()`);
    process.exit(1);
  }
  builders[name] = build;
}

const result = await buildAndCompose(builders);

for (const { name } of SUBGRAPHS) {
  const file = new URL(`${name}.graphql`, schemaDir);
  if (result.subgraphs[name] !== undefined) {
    await writeFile(file, subgraphFile(name, result.subgraphs[name]));
    console.log(`wrote schema/${name}.graphql`);
  } else if (existsSync(file)) {
    await rm(file);
    console.warn(`warning: removed schema/${name}.graphql: the ${name} subgraph has no built schema`);
  }
}

for (const hint of result.hints) console.warn(`hint: ${hint}`);
if (result.errors.length > 0) {
  console.error(`composition failed with ${result.errors.length} error(s):`);
  for (const error of result.errors) console.error(`  - ${error}`);
  console.error('schema/supergraph.graphql was left unchanged.');
  process.exit(1);
}
await writeFile(new URL('supergraph.graphql', schemaDir), supergraphFile(result.supergraphSdl));
console.log(`wrote schema/supergraph.graphql (${Object.keys(result.subgraphs).join(', ')})`);
// Loading the subgraphs can leave handles open (database pools are created lazily, but be sure).
process.exit(0);
