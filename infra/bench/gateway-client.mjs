// A client of the gateway as an app is one: bearer JWT, GraphQL over HTTP POST, keep-alive connections
// (Node's global fetch pools and reuses connections per origin).
import { Pool } from 'undici';
import { performance } from 'node:perf_hooks';

const TIMEOUT_MS = 30_000;

/** A GraphQL answer read whole: its data, errors and first error code, or a transport failure when it is not JSON. */
function answerOf(ms, status, text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return { ms, status, transport: `HTTP ${status}, not JSON` };
  }
  const code = body.errors?.[0]?.extensions?.code ?? (body.errors ? 'NO_CODE' : undefined);
  return { ms, status, data: body.data, errors: body.errors, code };
}

/**
 * One GraphQL call. Never throws: a transport failure comes back as { transport: message }.
 * @returns {Promise<{ ms: number, status: number, data?: any, errors?: any[], code?: string, transport?: string }>}
 */
export async function gql(url, query, variables, token, correlationId) {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(correlationId ? { 'x-correlation-id': correlationId } : {}),
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await response.text();
    return answerOf(performance.now() - started, response.status, text);
  } catch (error) {
    return { ms: performance.now() - started, status: 0, transport: error?.cause?.code ?? error?.name ?? String(error) };
  }
}

/** The same call for set-up steps, where any failure stops the benchmark. */
export async function gqlOrThrow(url, query, variables, token, what) {
  const res = await gql(url, query, variables, token);
  if (res.transport || res.errors || !res.data) {
    throw new Error(`${what} failed: ${res.transport ?? JSON.stringify(res.errors ?? res.data).slice(0, 500)}`);
  }
  return res.data;
}

/**
 * A cheaper client for benchmarks whose client shares the machine with the system it measures:
 * undici's Pool (keep-alive connections, at most `connections`, one request at a time on each), its
 * request API rather than fetch, the request body given already serialised. Each answer is still
 * read whole and parsed. Same answer shape as gql. Measured against node:http over a keep-alive
 * agent, 150 requests in flight against a trivial local server: 44 against 99 µs of client CPU per
 * request; the CPU the load generator does not spend is left to the system under test.
 */
export function gatewayClient(url, { connections }) {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections, pipelining: 1, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  /** @param {string} body the JSON request body @param {string} [token] @param {string} [correlationId] */
  const post = async (body, token, correlationId) => {
    const started = performance.now();
    try {
      const response = await pool.request({
        path: target.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(correlationId ? { 'x-correlation-id': correlationId } : {}),
        },
        body,
      });
      const text = await response.body.text();
      return answerOf(performance.now() - started, response.statusCode, text);
    } catch (error) {
      return { ms: performance.now() - started, status: 0, transport: error?.code ?? error?.name ?? String(error) };
    }
  };
  return { post, close: () => pool.close() };
}
