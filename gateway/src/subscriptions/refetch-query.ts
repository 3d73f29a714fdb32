import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  getArgumentValues,
  getVariableValues,
  print,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { ORDER_QUERY_ARG, ORDER_QUERY_FIELD, SUBSCRIPTION_ARG, SUBSCRIPTION_FIELD } from './schema.js';

/** The alias under which the refetch always reads the order's version (for de-duplication); never sent to the client. */
export const VERSION_KEY = 'shopGatewayVersion__';

/**
 * A subscription turned into the query that reads its payload: the client's selection on Order,
 * its fragments and variables, under `order(id:)` executed as the subscriber.
 */
export interface RefetchQuery {
  orderId: string;
  /** The response key of the subscription field (its alias, or orderStatusChanged). */
  responseKey: string;
  query: string;
  operationName?: string;
  variables: Record<string, unknown>;
}

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

/** The root fields of a selection, following fragments (validation already made it exactly one). */
function rootFields(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>): FieldNode[] {
  return set.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection];
    if (selection.kind === Kind.INLINE_FRAGMENT) return rootFields(selection.selectionSet, fragments);
    const fragment = fragments.get(selection.name.value);
    return fragment ? rootFields(fragment.selectionSet, fragments) : [];
  });
}

const fragmentSpreads = (node: SelectionSetNode | FragmentDefinitionNode): string[] => {
  const names: string[] = [];
  visit(node, { FragmentSpread: (spread) => void names.push(spread.name.value) });
  return names;
};

const variablesUsed = (nodes: (OperationDefinitionNode | FragmentDefinitionNode)[]): Set<string> => {
  const names = new Set<string>();
  for (const node of nodes) {
    visit(node, {
      VariableDefinition: () => false, // a definition is not a use
      Variable: (variable) => void names.add(variable.name.value),
    });
  }
  return names;
};

/**
 * Builds the refetch for a validated subscription document: `query($v...) { <key>: order(id: <orderId value>)
 * { ...client selection, shopGatewayVersion__: version } }` plus the fragments it reaches and the variables
 * it uses. Answers BAD_USER_INPUT errors for variables that do not coerce or root-field directives.
 */
export function refetchQueryFor(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | null | undefined,
): RefetchQuery | readonly GraphQLError[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  const [field] = rootFields(operation.selectionSet, fragments);
  const fieldDef = schema.getSubscriptionType()?.getFields()[SUBSCRIPTION_FIELD];
  if (!field || field.name.value !== SUBSCRIPTION_FIELD || !fieldDef || !field.selectionSet) {
    return [badInput(`The subscription must select ${SUBSCRIPTION_FIELD}(${SUBSCRIPTION_ARG}:) with fields of Order`)];
  }
  if (field.directives?.length) return [badInput(`Directives are not supported on the ${SUBSCRIPTION_FIELD} field`)];

  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return coerced.errors.map((e) => badInput(e.message));
  const orderId = getArgumentValues(fieldDef, field, coerced.coerced)[SUBSCRIPTION_ARG];
  const idArgument = field.arguments?.find((a) => a.name.value === SUBSCRIPTION_ARG);
  if (typeof orderId !== 'string' || !idArgument) return [badInput(`${SUBSCRIPTION_ARG} is required`)];

  const responseKey = field.alias?.value ?? SUBSCRIPTION_FIELD;
  const orderField: FieldNode = {
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: responseKey },
    name: { kind: Kind.NAME, value: ORDER_QUERY_FIELD },
    arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: ORDER_QUERY_ARG }, value: idArgument.value }],
    selectionSet: {
      kind: Kind.SELECTION_SET,
      selections: [
        ...field.selectionSet.selections,
        { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: VERSION_KEY }, name: { kind: Kind.NAME, value: 'version' } },
      ],
    },
  };

  // Only the fragments the new selection reaches (those spread at the subscription root are gone).
  const kept = new Map<string, FragmentDefinitionNode>();
  const pending = fragmentSpreads(field.selectionSet);
  while (pending.length > 0) {
    const name = pending.pop()!;
    const fragment = fragments.get(name);
    if (!fragment || kept.has(name)) continue;
    kept.set(name, fragment);
    pending.push(...fragmentSpreads(fragment));
  }

  const draft: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: OperationTypeNode.QUERY,
    name: operation.name,
    variableDefinitions: [],
    selectionSet: { kind: Kind.SELECTION_SET, selections: [orderField] },
  };
  const used = variablesUsed([draft, ...kept.values()]);
  const variableDefinitions = (operation.variableDefinitions ?? []).filter((d) => used.has(d.variable.name.value));
  const query = print({ kind: Kind.DOCUMENT, definitions: [{ ...draft, variableDefinitions }, ...kept.values()] });
  const refetchVariables: Record<string, unknown> = {};
  for (const d of variableDefinitions) {
    const name = d.variable.name.value;
    if (variables && Object.hasOwn(variables, name)) refetchVariables[name] = variables[name];
  }
  return { orderId, responseKey, query, operationName: operation.name?.value, variables: refetchVariables };
}
