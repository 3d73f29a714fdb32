import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { GraphQLSchema } from 'graphql';
// @ts-expect-error plain ESM module shared with `npm run compose`, no type declarations
import { SUBGRAPHS, buildAndCompose, builderName, subgraphFile, supergraphFile } from './compose-lib.mjs';

type Builder = () => Promise<GraphQLSchema>;
interface Composed {
  subgraphs: Record<string, string>;
  supergraphSdl?: string;
  errors: string[];
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const STALE = 'the checked-in schema files are stale: run npm run compose';

/** Schema builders from the subgraph SOURCES (not dist), so a source change without a recompose is caught. */
async function sourceBuilders(): Promise<Record<string, Builder>> {
  const builders: Record<string, Builder> = {};
  for (const { name } of SUBGRAPHS as { name: string }[]) {
    const source = here(`../subgraphs/${name}/src/schema.ts`);
    if (!existsSync(source)) continue;
    const module = (await import(/* @vite-ignore */ source)) as Record<string, Builder>;
    const build = module[builderName(name)];
    if (typeof build !== 'function') throw new Error(`subgraphs/${name}/src/schema.ts must export ${builderName(name)}()`);
    builders[name] = build;
  }
  return builders;
}

const readIfExists = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);

describe('schema/*.graphql and schema/supergraph.graphql', () => {
  it('compose without errors and match what the current subgraph sources generate', async () => {
    const composed = (await buildAndCompose(await sourceBuilders())) as Composed;
    expect(composed.errors, 'composition errors (fix the subgraphs, then run npm run compose)').toEqual([]);

    for (const { name } of SUBGRAPHS as { name: string }[]) {
      const sdl = composed.subgraphs[name];
      const checkedIn = readIfExists(here(`./${name}.graphql`));
      const expected = sdl === undefined ? undefined : subgraphFile(name, sdl);
      expect(checkedIn, `schema/${name}.graphql: ${STALE}`).toBe(expected);
    }
    expect(readIfExists(here('./supergraph.graphql')), `schema/supergraph.graphql: ${STALE}`).toBe(supergraphFile(composed.supergraphSdl!));
  });
});
