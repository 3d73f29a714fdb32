import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kind, parse, type ConstValueNode } from 'graphql';

/** schema/supergraph.graphql (`npm run compose`), or SUPERGRAPH_PATH. Same relative path from src/ and dist/. */
export function supergraphPath(): string {
  return process.env.SUPERGRAPH_PATH || fileURLToPath(new URL('../../schema/supergraph.graphql', import.meta.url));
}

export function readSupergraphSdl(path = supergraphPath()): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the supergraph at ${path}: run npm run compose (or set SUPERGRAPH_PATH)`, { cause: error });
  }
}

const stringArg = (value: ConstValueNode | undefined): string | undefined => (value?.kind === Kind.STRING ? value.value : undefined);

/** The subgraphs a supergraph routes to, from its join__Graph enum: [{ name, url }]. */
export function subgraphsOf(supergraphSdl: string): { name: string; url: string }[] {
  const out: { name: string; url: string }[] = [];
  for (const definition of parse(supergraphSdl).definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const graph = value.directives?.find((d) => d.name.value === 'join__graph');
      const name = stringArg(graph?.arguments?.find((a) => a.name.value === 'name')?.value);
      const url = stringArg(graph?.arguments?.find((a) => a.name.value === 'url')?.value);
      if (name && url) out.push({ name, url });
    }
  }
  return out;
}
