import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { DomainError, ErrorCode, formatError } from './errors.js';

const format = (error: GraphQLError) => formatError({ message: error.message, extensions: error.extensions }, error);

describe('formatError', () => {
  it('keeps the public code and documented fields only', () => {
    const error = new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'Try again later', { cause: 'ECONNREFUSED 10.0.0.7:4006', serviceName: 'fulfillment' });
    expect(format(error)).toEqual({ message: 'Try again later', extensions: { code: 'SERVICE_UNAVAILABLE' } });
    const input = new DomainError(ErrorCode.BAD_USER_INPUT, 'qty must be 1..99', { field: 'items[0].qty', stacktrace: ['at x'] });
    expect(format(input).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'items[0].qty' });
  });

  it('answers anything unexpected as INTERNAL_SERVER_ERROR without details', () => {
    const wrapped = new GraphQLError('relation "x" does not exist', { originalError: new Error('relation "x" does not exist') });
    expect(format(wrapped)).toEqual({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });
});
