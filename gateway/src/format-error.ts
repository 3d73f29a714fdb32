import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ErrorCode, formatError as kitFormatError } from '@shop/kit';

const CONTRACT_CODES = new Set<string>(Object.values(ErrorCode));
/** Extensions the gateway adds that describe its internals (which subgraph, its url, its raw answer). */
const INTERNAL_EXTENSIONS = ['serviceName', 'response', 'stacktrace', 'exception'];

const withoutInternals = (formatted: GraphQLFormattedError): GraphQLFormattedError => {
  const extensions = { ...formatted.extensions };
  for (const key of INTERNAL_EXTENSIONS) delete extensions[key];
  return { ...formatted, extensions };
};

/** An error a subgraph returned in its response: a plain JSON object, already formatted by the subgraph. */
const subgraphErrorCode = (original: unknown): string | undefined => {
  if (typeof original !== 'object' || original === null || original instanceof Error) return undefined;
  const code = (original as { extensions?: { code?: unknown } }).extensions?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * The gateway's `formatError`: an error a subgraph answered with keeps its contract code and
 * message (minus the gateway's internal extensions); anything else goes through the kit's
 * formatError, which logs it and hides internals (stack traces, SQL, subgraph urls).
 */
export function formatGatewayError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = subgraphErrorCode(unwrapResolverError(error));
  if (code !== undefined && CONTRACT_CODES.has(code)) return withoutInternals(formatted);
  if (code !== undefined) {
    // INTERNAL_SERVER_ERROR or an unexpected code from a subgraph: the subgraph logged the details.
    return { message: 'Internal server error', path: formatted.path, locations: formatted.locations, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
  return withoutInternals(kitFormatError(formatted, error));
}
