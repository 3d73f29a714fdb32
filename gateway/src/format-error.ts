import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ErrorCode, formatError as kitFormatError, publicExtensions } from '@shop/kit';
import { QUERY_LIMIT_EXCEEDED, tokenLimitError } from './policy/limits.js';

const CONTRACT_CODES = new Set<string>(Object.values(ErrorCode));

/** An error a subgraph returned in its response: a plain JSON object, already formatted by the subgraph. */
const subgraphErrorCode = (original: unknown): string | undefined => {
  if (typeof original !== 'object' || original === null || original instanceof Error) return undefined;
  const code = (original as { extensions?: { code?: unknown } }).extensions?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * A refusal by a query limit. Apollo Server reports validation failures as GRAPHQL_VALIDATION_FAILED
 * and parser failures as GRAPHQL_PARSE_FAILED; a limit's (policy/limits.ts) gets its own code.
 */
function asLimitRefusal(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (code === 'GRAPHQL_VALIDATION_FAILED' && typeof formatted.extensions?.limit === 'string') {
    return { ...formatted, extensions: { ...formatted.extensions, code: QUERY_LIMIT_EXCEEDED } };
  }
  if (code === 'GRAPHQL_PARSE_FAILED') {
    const refusal = tokenLimitError(formatted.message);
    if (refusal) return { message: refusal.message, extensions: publicExtensions(refusal.extensions) };
  }
  return formatted;
}

/**
 * The gateway's `formatError`: an error a subgraph answered with keeps its contract code and
 * message; anything else goes through the kit's formatError, which logs it and hides internals
 * (stack traces, SQL, subgraph urls). Either way only the public extensions (kit PUBLIC_EXTENSIONS)
 * reach the client: never the gateway's serviceName or the subgraph's raw response.
 */
export function formatGatewayError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = subgraphErrorCode(unwrapResolverError(error));
  if (code !== undefined && CONTRACT_CODES.has(code)) return { ...formatted, extensions: publicExtensions(formatted.extensions) };
  if (code !== undefined) {
    // INTERNAL_SERVER_ERROR or an unexpected code from a subgraph: the subgraph logged the details.
    return { message: 'Internal server error', path: formatted.path, locations: formatted.locations, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
  return asLimitRefusal(kitFormatError(formatted, error));
}
