/** Input checks for the simulator's HTTP API: every bad input is a 4xx with a clear message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, message);

type Body = Record<string, unknown>;

export function objectBody(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('expected a JSON object body (Content-Type: application/json)');
  }
  return body as Body;
}

export function str(body: Body, field: string, { optional = false, max = 200 } = {}): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) {
    if (optional) return undefined;
    throw badRequest(`${field} is required: a non-empty string`);
  }
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    throw badRequest(`${field} must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

export const requiredStr = (body: Body, field: string, max = 200): string => str(body, field, { max }) as string;

/** A positive integer amount in minor units (37700 = ¥377.00). */
export function amount(body: Body, field = 'amount'): number {
  const value = body[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw badRequest(`${field} must be a positive integer in minor units (e.g. 37700 for 377.00)`);
  }
  return value;
}

export function currency(body: Body, field = 'currency'): string {
  const value = body[field];
  if (typeof value !== 'string' || !/^[A-Z]{3}$/.test(value)) {
    throw badRequest(`${field} must be an ISO 4217 code in upper case, e.g. "CNY"`);
  }
  try {
    new Intl.NumberFormat('en', { style: 'currency', currency: value });
  } catch {
    throw badRequest(`${field} "${value}" is not a known currency`);
  }
  return value;
}

export function httpUrl(body: Body, field: string, optional = false): string | undefined {
  const value = str(body, field, { optional, max: 2000 });
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badRequest(`${field} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest(`${field} must be an absolute http(s) URL`);
  return value;
}

export function optionalInt(body: Body, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badRequest(`${field} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** An optional ISO 8601 timestamp from a query string. */
export function isoQuery(value: unknown, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(Date.parse(value))) {
    throw badRequest(`${field} must be an ISO 8601 timestamp, e.g. 2026-11-24T10:00:00Z`);
  }
  return Date.parse(value);
}
