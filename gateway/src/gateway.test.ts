import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getIntrospectionQuery } from 'graphql';
import { mintClientToken, signInternalIdentity, verifyInternalIdentity } from '@shop/kit';
import { admin, callSubgraph, closedPort, errorCode, user, type GraphQLResponse } from '@shop/kit/testing';
import { start as startCatalog } from '@shop/catalog';
import { createGateway, type Gateway } from './gateway.js';

let DEAD: string;
const OTHERS = ['CART', 'ORDER', 'INVENTORY', 'PAYMENT', 'FULFILLMENT'];

/** A tiny HTTP server on port 0 that records each request and answers with `reply`. */
async function recordingServer(reply: (req: http.IncomingMessage, body: Buffer) => { status: number; type: string; body: string }) {
  const seen: { url: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ url: req.url ?? '', headers: req.headers, body });
      const answer = reply(req, body);
      res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { seen, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let catalog: Awaited<ReturnType<typeof startCatalog>>;
let gateway: Gateway;
let url: string;
let base: string;

beforeAll(async () => {
  DEAD = `http://127.0.0.1:${await closedPort()}/graphql`;
  for (const name of OTHERS) process.env[`${name}_URL`] = DEAD;
  catalog = await startCatalog(0);
  process.env.CATALOG_URL = catalog.url;
  gateway = await createGateway();
  url = (await gateway.start(0)).url;
  base = url.replace(/\/graphql$/, '');
});
afterAll(async () => {
  await gateway?.stop();
  await catalog?.stop();
});

async function post(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLResponse<any> };
}
const bearer = async (identity: { userId: string; roles: string[] }, ttl?: number) => ({ authorization: `Bearer ${await mintClientToken(identity, ttl)}` });

const CREATE = `mutation($input: CreateProductInput!) { createProduct(input: $input) { id title skus { id price { amount currency } } } }`;
const tag = `gw${Date.now().toString(36)}`;
const newProduct = (title: string) => ({ input: { title, description: 'via the gateway', skus: [{ title: 'one', price: 1200, currency: 'CNY' }] } });

describe('gateway: GraphQL', () => {
  it('creates a product for an admin token and serves it to an anonymous products query', async () => {
    const created = await post(CREATE, newProduct(`Oolong ${tag}`), await bearer(admin()));
    expect(created.body.errors).toBeUndefined();
    const id = created.body.data.createProduct.id as string;

    const found = await post(`query($s: String) { products(first: 5, search: $s) { edges { node { id title skus { price { amount } } } } } }`, { s: tag });
    expect(found.status).toBe(200);
    expect(found.body.errors).toBeUndefined();
    expect(found.body.data.products.edges.map((e: any) => e.node)).toEqual([{ id, title: `Oolong ${tag}`, skus: [{ price: { amount: 1200 } }] }]);
  });

  it('answers FORBIDDEN to a customer and UNAUTHENTICATED to an anonymous createProduct', async () => {
    const customer = await post(CREATE, newProduct('nope'), await bearer(user()));
    expect(customer.body.errors?.[0]).toMatchObject({ message: 'This operation is for administrators only', extensions: { code: 'FORBIDDEN' } });
    // The subgraph's own message and code come through; no subgraph name, url or raw response.
    const anonymous = await post(CREATE, newProduct('nope'));
    expect(anonymous.body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
    expect(anonymous.body.errors?.[0]?.message).toMatch(/sign in/i);
  });

  it('refuses a malformed, forged or expired bearer token with 401 UNAUTHENTICATED, even for catalog reads', async () => {
    const forged = `${(await mintClientToken(admin())).slice(0, -4)}AAAA`;
    for (const authorization of ['Bearer not-a-jwt', `Bearer ${forged}`, (await bearer(user(), -60)).authorization, 'Basic abc']) {
      const res = await post(`{ products(first: 1) { edges { cursor } } }`, {}, { authorization });
      expect(res.status).toBe(401);
      expect(errorCode(res.body)).toBe('UNAUTHENTICATED');
      expect(res.body.data).toBeUndefined();
    }
  });

  it('does not forward an x-shop-identity header the client made up', async () => {
    const stolen = await signInternalIdentity(admin(), 'catalog');
    const res = await post(CREATE, newProduct('smuggled'), { 'x-shop-identity': stolen });
    expect(errorCode(res.body)).toBe('UNAUTHENTICATED');
    const asCustomer = await post(CREATE, newProduct('smuggled'), { 'x-shop-identity': stolen, ...(await bearer(user())) });
    expect(errorCode(asCustomer.body)).toBe('FORBIDDEN');
  });

  it('lets a subgraph refuse an identity header signed with the client JWT secret', async () => {
    const clientSigned = await mintClientToken(admin());
    const res = await callSubgraph(catalog.url, CREATE, newProduct('direct'), undefined, { 'x-shop-identity': clientSigned });
    expect(errorCode(res)).toBe('UNAUTHENTICATED');
  });

  it('refuses queries nested deeper than the limit with QUERY_LIMIT_EXCEEDED naming it, and still allows introspection', async () => {
    const nested = (levels: number): string => (levels === 0 ? 'id' : `skus { product { ${nested(levels - 1)} } }`);
    const deep = `{ products { edges { node { ${nested(8)} } } } }`; // 3 + 2 * 8 + 1 = 20 levels
    const res = await post(deep);
    expect(res.status).toBe(400);
    expect(errorCode(res.body)).toBe('QUERY_LIMIT_EXCEEDED');
    expect(res.body.errors[0].extensions).toEqual({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'depth', max: 12 });
    expect(res.body.errors[0].message).toMatch(/depth limit of 12.*GRAPHQL_MAX_DEPTH/);
    const introspection = await post(getIntrospectionQuery());
    expect(introspection.body.errors).toBeUndefined();
    expect(introspection.body.data.__schema.queryType.name).toBe('Query');
  });

  it('serves Apollo Sandbox to a browser outside production', async () => {
    const response = await fetch(url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/sandbox/i);
  });

  it('serves a self-contained GraphiQL at /explorer: nothing loaded from another host, queries sent to /graphql', async () => {
    const response = await fetch(`${base}/explorer`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toContain('renderYogaGraphiQL');
    expect(html).toContain('"endpoint":"/graphql"');
    // No script, style sheet, font or image comes from elsewhere: the page works without internet.
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import\s+url\(["']?https?:/i);
  });

  it('answers a CORS preflight from the storefront origin', async () => {
    const response = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });
});

describe('gateway: connections', () => {
  it('keeps idle keep-alive connections for 65 s (HTTP_KEEPALIVE_TIMEOUT_MS), the gateway and the subgraphs alike', async () => {
    for (const target of [url, catalog.url]) {
      const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
      await res.text();
      expect(res.headers.get('keep-alive'), target).toBe('timeout=65');
    }
  });
});

describe('gateway: what it sends outside the system', () => {
  it('sends Apollo no usage report unless the operator allows it (APOLLO_TELEMETRY_DISABLED=false)', async () => {
    // Apollo Gateway's constructor starts the report (a meter provider exporting to Apollo's servers) through this module.
    const telemetry = createRequire(import.meta.url)('@apollo/gateway/dist/utilities/opentelemetry.js') as { createDataCollectionExporter: () => unknown };
    const report = vi.spyOn(telemetry, 'createDataCollectionExporter').mockImplementation(() => ({ shutdown: async () => undefined }));
    const configured = process.env.APOLLO_TELEMETRY_DISABLED;
    try {
      delete process.env.APOLLO_TELEMETRY_DISABLED;
      await (await createGateway()).stop();
      expect(report).not.toHaveBeenCalled();
      process.env.APOLLO_TELEMETRY_DISABLED = 'false';
      await (await createGateway()).stop();
      expect(report).toHaveBeenCalledTimes(1);
    } finally {
      report.mockRestore();
      if (configured === undefined) delete process.env.APOLLO_TELEMETRY_DISABLED;
      else process.env.APOLLO_TELEMETRY_DISABLED = configured;
    }
  });
});

describe('gateway: what a subgraph receives', () => {
  let fake: Awaited<ReturnType<typeof recordingServer>>;
  let spied: Gateway;
  let spiedUrl: string;
  beforeAll(async () => {
    fake = await recordingServer(() => ({ status: 200, type: 'application/json', body: JSON.stringify({ data: { products: { edges: [] } } }) }));
    process.env.CATALOG_URL = `http://127.0.0.1:${fake.port}/graphql`;
    spied = await createGateway();
    spiedUrl = (await spied.start(0)).url;
    process.env.CATALOG_URL = catalog.url;
  });
  afterAll(async () => {
    await spied?.stop();
    await fake?.close();
  });

  const ask = (headers: Record<string, string>) =>
    fetch(spiedUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: '{ products(first: 1) { edges { cursor } } }' }),
    });

  it('gets no identity for an anonymous client, whatever headers the client sent', async () => {
    const forged = await signInternalIdentity(admin(), 'catalog');
    expect((await ask({ 'x-shop-identity': forged, 'x-correlation-id': 'corr-anon-1' })).status).toBe(200);
    const last = fake.seen.at(-1)!;
    expect(last.headers['x-shop-identity']).toBeUndefined();
    expect(last.headers.authorization).toBeUndefined();
    expect(last.headers['x-correlation-id']).toBe('corr-anon-1');
  });

  it("gets the gateway's own signed identity for a signed-in client, never the client's token", async () => {
    const customer = user();
    const auth = await bearer(customer);
    expect((await ask({ ...auth, 'x-shop-identity': await signInternalIdentity(admin(), 'catalog') })).status).toBe(200);
    const last = fake.seen.at(-1)!;
    expect(last.headers.authorization).toBeUndefined();
    expect(await verifyInternalIdentity(String(last.headers['x-shop-identity']), 'catalog')).toEqual(customer);
    // bound to the catalog: replayed against another subgraph it is refused
    await expect(verifyInternalIdentity(String(last.headers['x-shop-identity']), 'order')).rejects.toThrow(/not valid/);
    expect(last.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('gateway: operations routes', () => {
  it('answers /healthz', async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('serves Prometheus metrics with GraphQL and HTTP counters', async () => {
    await post(`{ products(first: 1) { edges { cursor } } }`);
    const response = await fetch(`${base}/metrics`);
    const text = await response.text();
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(text).toContain('graphql_requests_total');
    expect(text).toContain('http_requests_total');
  });

  it('reports each subgraph in /readyz and answers 503 naming the one that is down', async () => {
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { checks: Record<string, string> };
    expect(ready.checks.catalog).toBe('ok');

    process.env.CATALOG_URL = DEAD;
    const broken = await createGateway();
    process.env.CATALOG_URL = catalog.url;
    const { url: brokenUrl } = await broken.start(0);
    try {
      const response = await fetch(brokenUrl.replace(/\/graphql$/, '/readyz'));
      expect(response.status).toBe(503);
      const body = (await response.json()) as { ready: boolean; checks: Record<string, string> };
      expect(body.ready).toBe(false);
      expect(body.checks.catalog).toMatch(/unreachable/);

      const failed = await fetch(brokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ products { edges { cursor } } }' }),
      });
      const answer = (await failed.json()) as GraphQLResponse;
      expect(answer.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(JSON.stringify(answer)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|stack/);
    } finally {
      await broken.stop();
    }
  });
});

describe('gateway: payment-provider callback', () => {
  it('forwards the raw bytes, Content-Type and Payment-Signature, and returns the payment subgraph answer', async () => {
    const payment = await recordingServer(() => ({ status: 401, type: 'application/json', body: '{"message":"bad signature"}' }));
    process.env.PAYMENT_URL = `http://127.0.0.1:${payment.port}/graphql`;
    try {
      // Odd spacing, key order and non-ASCII text: any re-serialisation would change these bytes.
      const raw = Buffer.from('{ "eventId":"evt_1",  "amount": 37700,"note":"支付 ✓" ,"paymentTxnId":"txn_1"}\n', 'utf8');
      const signature = 't=1700000000,v1=0123456789abcdef';
      const response = await fetch(`${base}/internal/v1/payment/callback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'payment-signature': signature, authorization: 'Bearer whatever' },
        body: raw,
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ message: 'bad signature' });
      const received = payment.seen.at(-1)!;
      expect(received.url).toBe('/internal/v1/payment/callback');
      expect(received.body.equals(raw)).toBe(true);
      expect(received.headers['payment-signature']).toBe(signature);
      expect(received.headers['content-type']).toBe('application/json');
      expect(received.headers.authorization).toBeUndefined();
    } finally {
      await payment.close();
      process.env.PAYMENT_URL = DEAD;
    }
  });

  it('answers 502 when the payment subgraph is unreachable', async () => {
    process.env.PAYMENT_URL = DEAD;
    const response = await fetch(`${base}/internal/v1/payment/callback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ message: expect.stringContaining('unreachable') });
  });
});
