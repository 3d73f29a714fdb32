import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';

/** Deepest field nesting of an operation, following fragment spreads (each fragment counted once per path). */
export function operationDepth(document: DocumentNode, operationName?: string | null): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const depthOf = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
    if (!set) return 0;
    let max = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        max = Math.max(max, selection.selectionSet ? 1 + depthOf(selection.selectionSet, seen) : 1);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        max = Math.max(max, depthOf(selection.selectionSet, seen));
      } else if (!seen.has(selection.name.value)) {
        const fragment = fragments.get(selection.name.value);
        max = Math.max(max, depthOf(fragment?.selectionSet, new Set(seen).add(selection.name.value)));
      }
    }
    return max;
  };
  let deepest = 0;
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    if (operationName && d.name?.value !== operationName) continue;
    deepest = Math.max(deepest, depthOf(d.selectionSet, new Set()));
  }
  return deepest;
}

/** Refuses documents nested deeper than `maxDepth` with BAD_USER_INPUT (HTTP 400) before any subgraph is called. */
export function depthLimitPlugin(maxDepth: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName }) {
          const depth = operationDepth(document, operationName);
          if (depth > maxDepth) {
            throw new GraphQLError(`The query is nested ${depth} levels deep; the limit is ${maxDepth}`, {
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
