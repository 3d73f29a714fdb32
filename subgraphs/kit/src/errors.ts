import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { logger } from './logger.js';

/** The error codes of the public contract (contract.graphql). */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  STOCK_NOT_ENOUGH: 'STOCK_NOT_ENOUGH',
  ORDER_STATE_INVALID: 'ORDER_STATE_INVALID',
  ORDER_ALREADY_EXISTS: 'ORDER_ALREADY_EXISTS',
  PREVIEW_EXPIRED: 'PREVIEW_EXPIRED',
  FLASH_SALE_THROTTLED: 'FLASH_SALE_THROTTLED',
  RISK_REJECTED: 'RISK_REJECTED',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_ALLOWED: 'PERSISTED_QUERY_NOT_ALLOWED',
  /** The gateway's per-client rate limit is spent: `retryAfterMs` says when to try again (HTTP 429, Retry-After in seconds). */
  RATE_LIMITED: 'RATE_LIMITED',
  /** A service this operation needs (the payment provider, another subgraph) did not answer: retry later. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A failure the client caused or must act on: its message and code are safe to show. */
export class DomainError extends GraphQLError {
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message, { extensions: { code, ...details } });
    this.name = 'DomainError';
  }
}

export const badInput = (message: string, details?: Record<string, unknown>): DomainError => new DomainError(ErrorCode.BAD_USER_INPUT, message, details);
export const forbidden = (message = 'You are not allowed to do this'): DomainError => new DomainError(ErrorCode.FORBIDDEN, message);
export const unauthenticated = (message = 'Sign in first: this operation needs a bearer token'): DomainError =>
  new DomainError(ErrorCode.UNAUTHENTICATED, message);

/** Codes that graphql-js and Apollo Server themselves produce for malformed requests: safe to pass on. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'UNAUTHENTICATED',
]);
const PUBLIC_CODES = new Set<string>([...Object.values(ErrorCode), ...REQUEST_ERROR_CODES]);

/**
 * The extensions a client may see, each documented in README ("Errors"): the code, and the safe
 * details some codes carry. Anything else (a cause, a subgraph's name or url, a stack, an upstream
 * answer) is dropped from every error, whatever raised it.
 */
export const PUBLIC_EXTENSIONS = [
  'code',
  /** BAD_USER_INPUT: the input field that is wrong. */
  'field',
  /** BAD_USER_INPUT: the SKU that does not exist. */
  'skuId',
  /** STOCK_NOT_ENOUGH: [{ skuId, requested, available }]. */
  'shortages',
  /** ORDER_STATE_INVALID: the status, the move refused. */
  'status',
  'from',
  'to',
  /** ORDER_ALREADY_EXISTS: the order the clientReqId placed; SERVICE_UNAVAILABLE of payOrder: the payment to retry. */
  'orderId',
  'paymentId',
  /** QUERY_LIMIT_EXCEEDED (and the subscription count limit): which limit, its value; a coupon's per-customer limit. */
  'limit',
  'max',
  /**
   * BAD_USER_INPUT of a coupon (field couponCode): why it does not apply, and the figure that decides it;
   * a flash-sale refusal (FLASH_SALE_THROTTLED RATE / QUEUE_FULL / OPENING, STOCK_NOT_ENOUGH SOLD_OUT,
   * ORDER_ALREADY_EXISTS ONE_PER_BUYER): why.
   */
  'reason',
  /** FLASH_SALE_THROTTLED and RATE_LIMITED: when to try again (ms). */
  'retryAfterMs',
  'currency',
  'validFrom',
  'validTo',
  'minSpend',
] as const;

/** An error's extensions reduced to the public ones. */
export function publicExtensions(extensions: Record<string, unknown> | undefined): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const key of PUBLIC_EXTENSIONS) if (extensions && Object.hasOwn(extensions, key)) kept[key] = extensions[key];
  return kept;
}

/**
 * Apollo Server `formatError`: domain and request errors go out as they are; anything else is
 * logged with its stack and answered with a generic message, so no SQL or stack trace reaches a client.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const code = formatted.extensions?.code;
  // A GraphQL error that is itself the cause (not a wrapper of a thrown Error) was raised on purpose.
  if (original instanceof GraphQLError && typeof code === 'string' && PUBLIC_CODES.has(code)) {
    return { ...formatted, extensions: publicExtensions(formatted.extensions) };
  }
  logger.error({ err: original, path: formatted.path }, 'internal error while resolving a request');
  return {
    message: 'Internal server error',
    path: formatted.path,
    locations: formatted.locations,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
