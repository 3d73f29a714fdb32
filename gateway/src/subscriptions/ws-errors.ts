import { createRequire } from 'node:module';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import { logger, publicExtensions } from '@shop/kit';

/**
 * graphql-ws accepts errors from `onSubscribe` only when they are `instanceof GraphQLError` of the graphql
 * it imports itself: Node's CommonJS build. Under the test runner this package's own `graphql` import can
 * be the ESM build (another class), so errors for graphql-ws are made with the class Node's `require` gives.
 */
const { GraphQLError: WsGraphQLError } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

export const wsErrors = (errors: readonly GraphQLFormattedError[]): readonly GraphQLError[] =>
  errors.map((e) => new WsGraphQLError(e.message, { extensions: e.extensions })) as readonly GraphQLError[];

export const wsError = (message: string, code: string, extensions: Record<string, unknown> = {}): readonly GraphQLError[] =>
  wsErrors([{ message, extensions: { code, ...extensions } }]);

/**
 * The error message a client receives: errors with a code (ours, Apollo's, the subgraphs') keep their
 * message; anything else is an internal failure, logged here and answered with a generic message.
 */
export function formatWsErrors(errors: readonly GraphQLError[], context: Record<string, unknown>): GraphQLFormattedError[] {
  return errors.map((error) => {
    const code = error.extensions?.code;
    if (typeof code === 'string') {
      return { message: error.message, ...(error.locations ? { locations: error.locations } : {}), extensions: publicExtensions(error.extensions) };
    }
    logger.error({ err: error.originalError ?? error, ...context }, 'subscription failed');
    return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  });
}
