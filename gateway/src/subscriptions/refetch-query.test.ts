import { describe, expect, it } from 'vitest';
import { getOperationAST, parse, print, type GraphQLError } from 'graphql';
import { readSupergraphSdl } from '../supergraph.js';
import { refetchQueryFor, type RefetchQuery } from './refetch-query.js';
import { subscriptionSchema, validateDocument } from './schema.js';

const schema = subscriptionSchema(readSupergraphSdl());

function refetch(query: string, variables: Record<string, unknown> = {}): RefetchQuery | readonly GraphQLError[] {
  const document = parse(query);
  expect(validateDocument(schema, document)).toEqual([]);
  return refetchQueryFor(schema, document, getOperationAST(document)!, variables);
}
const ID = 'ord_0192b0c0aaaa7bbbb8cccc0000000001';

describe('the refetch query of a subscription', () => {
  it('adds Subscription.orderStatusChanged to the API schema when the supergraph lacks it', () => {
    expect(String(schema.getSubscriptionType()?.getFields().orderStatusChanged?.type)).toBe('Order!');
    expect(String(schema.getSubscriptionType()?.getFields().orderStatusChanged?.args[0]?.type)).toBe('ID!');
  });

  it("re-runs the client's selection under order(id:), keeping fragments, used variables and the alias", () => {
    const result = refetch(
      `subscription Watch($id: ID!, $items: Boolean!) { ...Root }
       fragment Root on Subscription { mine: orderStatusChanged(orderId: $id) { ...Bits items @include(if: $items) { qty } } }
       fragment Bits on Order { id ...More }
       fragment More on Order { status }`,
      { id: ID, items: false, extra: 'not declared' },
    ) as RefetchQuery;
    expect(result.orderId).toBe(ID);
    expect(result.responseKey).toBe('mine');
    expect(result.operationName).toBe('Watch');
    expect(result.variables).toEqual({ id: ID, items: false });
    expect(result.query).toBe(
      print(
        parse(`query Watch($id: ID!, $items: Boolean!) { mine: order(id: $id) { ...Bits items @include(if: $items) { qty } shopGatewayVersion__: version } }
               fragment Bits on Order { id ...More }
               fragment More on Order { status }`),
      ),
    );
    expect(validateDocument(schema, parse(result.query))).toEqual([]);
  });

  it('takes an inline order id as it is', () => {
    const result = refetch(`subscription { orderStatusChanged(orderId: "${ID}") { status } }`) as RefetchQuery;
    expect(result).toMatchObject({ orderId: ID, responseKey: 'orderStatusChanged', variables: {} });
    expect(result.query).toContain(`orderStatusChanged: order(id: "${ID}")`);
  });

  it('answers BAD_USER_INPUT for variables that do not coerce and for directives on the field', () => {
    const missing = refetch(`subscription($id: ID!) { orderStatusChanged(orderId: $id) { status } }`) as GraphQLError[];
    expect(missing[0]?.extensions.code).toBe('BAD_USER_INPUT');
    const skipped = refetch(`subscription { orderStatusChanged(orderId: "${ID}") @skip(if: false) { status } }`) as GraphQLError[];
    expect(skipped[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('reports, instead of throwing, a root @skip whose variable graphql-js cannot evaluate during validation', () => {
    const errors = validateDocument(schema, parse(`subscription($s: Boolean!) { orderStatusChanged(orderId: "${ID}") @skip(if: $s) { status } }`));
    expect(errors[0]?.message).toMatch(/\$s/);
  });
});
