import { Supergraph, printSchema as printFederationSchema } from '@apollo/federation-internals';
import {
  GraphQLError,
  buildSchema,
  extendSchema,
  isObjectType,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';

export const SUBSCRIPTION_FIELD = 'orderStatusChanged';
export const SUBSCRIPTION_ARG = 'orderId';
/** The query a subscription's selection is re-run through: the same field, owner or admin, as over HTTP. */
export const ORDER_QUERY_FIELD = 'order';
export const ORDER_QUERY_ARG = 'id';

const SUBSCRIPTION_SDL = `"pushes the order each time its status changes; owner or admin only"
${SUBSCRIPTION_FIELD}(${SUBSCRIPTION_ARG}: ID!): Order!`;

/**
 * The schema subscription documents are validated against: the supergraph's API schema (what clients
 * see over HTTP) with `Subscription.orderStatusChanged(orderId: ID!): Order!`. The order subgraph is
 * meant to declare that field so the composed supergraph shows it; until it does, it is added here, so
 * the gateway never depends on it being composed.
 *
 * Printed by federation-internals and rebuilt with this module's graphql: the API schema object lives
 * in the CommonJS graphql build @apollo/gateway loads, which this ESM code must not mix with.
 */
export function subscriptionSchema(supergraphSdl: string): GraphQLSchema {
  const api = buildSchema(printFederationSchema(Supergraph.build(supergraphSdl).apiSchema()));
  const query = api.getQueryType();
  const order = api.getType('Order');
  if (!query?.getFields()[ORDER_QUERY_FIELD] || !isObjectType(order) || !order.getFields().version) {
    throw new Error('the supergraph has no Query.order(id) returning an Order with a version: subscriptions need them');
  }
  const subscription = api.getSubscriptionType();
  if (subscription?.getFields()[SUBSCRIPTION_FIELD]) return api;
  const extension = subscription
    ? `extend type ${subscription.name} { ${SUBSCRIPTION_SDL} }`
    : `type Subscription { ${SUBSCRIPTION_SDL} }\nextend schema { subscription: Subscription }`;
  return extendSchema(api, parse(extension));
}

/**
 * graphql-js validation (plus `extraRules`: the gateway's query limits), with its errors returned
 * instead of thrown: in graphql 16 the single-root-field rule evaluates @skip/@include at the
 * subscription root without variables, and throws when they use one.
 */
export function validateDocument(schema: GraphQLSchema, document: DocumentNode, extraRules: readonly ValidationRule[] = []): readonly GraphQLError[] {
  try {
    return validate(schema, document, [...specifiedRules, ...extraRules]);
  } catch (error) {
    if (error instanceof GraphQLError) return [error];
    throw error;
  }
}
