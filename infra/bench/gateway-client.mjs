// A client of the gateway as an app is one: bearer JWT, GraphQL over HTTP POST, keep-alive connections
// (Node's global fetch pools and reuses connections per origin).
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const TIMEOUT_MS = 30_000;

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
    const ms = performance.now() - started;
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      return { ms, status: response.status, transport: `HTTP ${response.status}, not JSON` };
    }
    const code = body.errors?.[0]?.extensions?.code ?? (body.errors ? 'NO_CODE' : undefined);
    return { ms, status: response.status, data: body.data, errors: body.errors, code };
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
 * node:http over a keep-alive agent (one connection per worker, reused), the request body given
 * already serialised. Each answer is still read whole and parsed. Same answer shape as gql.
 */
export function gatewayClient(url, { connections }) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  /** @param {string} body the JSON request body @param {string} [token] */
  const post = (body, token) =>
    new Promise((resolve) => {
      const started = performance.now();
      const fail = (transport) => resolve({ ms: performance.now() - started, status: 0, transport });
      const request = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          timeout: TIMEOUT_MS,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (response) => {
          const chunks = [];
          response.on('data', (chunk) => chunks.push(chunk));
          response.on('error', (error) => fail(error.code ?? error.name));
          response.on('end', () => {
            const ms = performance.now() - started;
            let parsed;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              return resolve({ ms, status: response.statusCode, transport: `HTTP ${response.statusCode}, not JSON` });
            }
            const code = parsed.errors?.[0]?.extensions?.code ?? (parsed.errors ? 'NO_CODE' : undefined);
            resolve({ ms, status: response.statusCode, data: parsed.data, errors: parsed.errors, code });
          });
        },
      );
      request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'TimeoutError' })));
      request.on('error', (error) => fail(error.code ?? error.name));
      request.end(body);
    });
  return { post, close: () => agent.destroy() };
}
