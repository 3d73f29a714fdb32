import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Supergraph, printSchema } from '@apollo/federation-internals';
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isSpecifiedScalarType,
  isIntrospectionType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';

/**
 * Contract coordinates that later issues deliver. A coordinate is pending when it, its type or its
 * field is listed here. Everything else in contract.graphql must already be in the supergraph's API
 * schema. Delete an issue's entry when it lands.
 */
const PENDING_BY_ISSUE: Record<number, string[]> = {};

const pending = new Map(Object.entries(PENDING_BY_ISSUE).flatMap(([issue, coords]) => coords.map((c) => [c, Number(issue)] as const)));

/** The issue still delivering `coordinate` (Type, Type.field, Type.field(arg:), Enum.VALUE), if any. */
function pendingIssue(coordinate: string): number | undefined {
  const typeName = coordinate.split('.')[0]!;
  const fieldCoordinate = coordinate.replace(/\(.*$/, '');
  return pending.get(coordinate) ?? pending.get(fieldCoordinate) ?? pending.get(typeName);
}

/** The public API the gateway promises, checked in beside the supergraph it is compared with. */
const CONTRACT = fileURLToPath(new URL('./contract.graphql', import.meta.url));

function apiSchema(): GraphQLSchema {
  const sdl = readFileSync(fileURLToPath(new URL('./supergraph.graphql', import.meta.url)), 'utf8');
  // Printed and rebuilt: federation-internals loads graphql's CommonJS build, this file its ESM build.
  return buildSchema(printSchema(Supergraph.build(sdl).apiSchema()));
}

const userTypes = (schema: GraphQLSchema): GraphQLNamedType[] =>
  Object.values(schema.getTypeMap()).filter((t) => !isSpecifiedScalarType(t) && !isIntrospectionType(t));

const kind = (type: GraphQLNamedType): string => type.constructor.name;

/** Every coordinate of the contract with what it must be: a type kind, a field/argument type, or a value. */
function contractCoordinates(contract: GraphQLSchema): Map<string, string> {
  const out = new Map<string, string>();
  for (const type of userTypes(contract)) {
    out.set(type.name, kind(type));
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        out.set(`${type.name}.${field.name}`, String(field.type));
        for (const arg of field.args) out.set(`${type.name}.${field.name}(${arg.name}:)`, String(arg.type));
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) out.set(`${type.name}.${field.name}`, String(field.type));
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) out.set(`${type.name}.${value.name}`, 'enum value');
    }
  }
  return out;
}

/** What the API schema has at a coordinate, in the same terms as contractCoordinates, or undefined. */
function lookup(schema: GraphQLSchema, coordinate: string): string | undefined {
  const match = /^(\w+)(?:\.(\w+)(?:\((\w+):\))?)?$/.exec(coordinate);
  if (!match) throw new Error(`malformed coordinate ${coordinate}`);
  const [, typeName, memberName, argName] = match;
  const type = schema.getType(typeName!);
  if (!type) return undefined;
  if (!memberName) return kind(type);
  if (isEnumType(type)) return type.getValue(memberName) ? 'enum value' : undefined;
  if (!isObjectType(type) && !isInterfaceType(type) && !isInputObjectType(type)) return undefined;
  const field = type.getFields()[memberName];
  if (!field) return undefined;
  if (!argName) return String(field.type);
  if (!('args' in field)) return undefined;
  const arg = field.args.find((a) => a.name === argName);
  return arg ? String(arg.type) : undefined;
}

describe('the supergraph API schema covers contract.graphql', () => {
  const contract = buildSchema(readFileSync(CONTRACT, 'utf8'));
  const required = contractCoordinates(contract);
  const api = apiSchema();

  it('lists only real contract coordinates as pending', () => {
    expect([...pending.keys()].filter((c) => !required.has(c))).toEqual([]);
  });

  it('has every contract coordinate that is not pending (issue 2: catalog, cart, inventory, addresses)', () => {
    const missing = [...required.keys()].filter((c) => pendingIssue(c) === undefined && lookup(api, c) === undefined);
    expect(missing, 'contract coordinates missing from the supergraph (implement them, then run npm run compose)').toEqual([]);
  });

  it('gives every contract coordinate that exists the contract type', () => {
    const wrong = [...required.entries()]
      .map(([coordinate, expected]) => ({ coordinate, expected, actual: lookup(api, coordinate) }))
      .filter(({ expected, actual }) => actual !== undefined && actual !== expected)
      .map(({ coordinate, expected, actual }) => `${coordinate}: contract ${expected}, supergraph ${actual}`);
    expect(wrong).toEqual([]);
  });
});
