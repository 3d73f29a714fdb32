import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { SignJWT } from 'jose';
import { DEV_SECRETS, signInternalIdentity } from '@shop/kit';
import { eventually } from '@shop/kit/testing';
import { gql, tokenFor } from '../support/gateway-client.js';
import { adminToken, database, payOnSimulator, placeOrder, seedProduct, systemStack, type Stack } from '../support/system.js';

/**
 * The edge as a careful operator tries it (issue 9): each case is refused the same way over HTTP and
 * over graphql-ws, before any subgraph is called.
 */
const METRICS_TOKEN = `metrics-${randomBytes(16).toString('hex')}`;
const partnerManifest = JSON.parse(readFileSync(new URL('../../schema/operations/partner-operations.json', import.meta.url), 'utf8')) as {
  operations: { id: string; name: string; body: string }[];
};
const skuStock = partnerManifest.operations.find((o) => o.name === 'PartnerSkuStock')!;

let stack: Stack & { databaseUrl: string };
const clients: Client[] = [];
beforeAll(async () => {
  stack = await systemStack({ METRICS_TOKEN });
}, 120_000);
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await stack?.stop();
});

type WsAnswer = { data?: any; errors?: any[]; closed?: { code: number; reason: string } };

/** One operation over graphql-ws: its first result, its errors, or how the connection was closed. */
function overWs(token: string | undefined, payload: { query: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown> }, params = {}) {
  return new Promise<WsAnswer>((resolve) => {
    const client = createClient({
      url: stack.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...params },
      retryAttempts: 0,
      lazy: true,
      on: { closed: (event) => resolve({ closed: { code: (event as { code: number }).code, reason: (event as { reason: string }).reason } }) },
    });
    clients.push(client);
    client.subscribe(payload as { query: string }, {
      next: (result) => resolve(result as WsAnswer),
      error: (error) =>
        resolve(
          Array.isArray(error)
            ? { errors: error }
            : { closed: { code: (error as { code?: number }).code ?? 0, reason: String((error as { reason?: string }).reason ?? error) } },
        ),
      complete: () => undefined,
    });
  });
}

const catalogRequests = async (): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${stack.ports.catalog}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('graphql_requests_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
};

const ADD_ADDRESS = `mutation { addAddress(input: { name: "P", phone: "+86 138 0000 0000", line1: "1 Road", city: "Shanghai", country: "CN" }) { id } }`;

describe('edge policy: the same on HTTP and graphql-ws', () => {
  it('lets a partner run only the safelisted operations, on both transports', async () => {
    const partner = await tokenFor(`partner-${Date.now()}`, ['partner']);
    const http = await gql(stack.gatewayUrl, ADD_ADDRESS, {}, partner);
    expect(http.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    const ws = await overWs(partner, { query: ADD_ADDRESS });
    expect(ws.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    const free = await overWs(partner, { query: '{ products(first: 1) { edges { cursor } } }' });
    expect(free.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    const unknown = await overWs(partner, { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');

    // The safelisted operation, by id, runs over both.
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'partner sku', price: 1200, stock: { 'wh-a': 4 } }]);
    const byId = { query: '', variables: { id: skuIds[0] }, extensions: { persistedQuery: { version: 1, sha256Hash: skuStock.id } } };
    const viaWs = await overWs(partner, byId);
    expect(viaWs.errors).toBeUndefined();
    expect(viaWs.data.sku).toMatchObject({ id: skuIds[0], available: 4 });
    const viaHttp = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${partner}` },
      body: JSON.stringify({ variables: byId.variables, extensions: byId.extensions }),
    });
    expect(((await viaHttp.json()) as { data: any }).data.sku).toMatchObject({ id: skuIds[0], available: 4 });
  });

  it("gives risk control the client's device over graphql-ws too: a blocked device cannot place an order", async () => {
    const device = `dev-blocked-${randomBytes(4).toString('hex')}`;
    const admin = await adminToken();
    const blocked = await gql(
      stack.gatewayUrl,
      'mutation($v: String!) { blockRiskSubject(kind: "DEVICE", value: $v, reason: "fraud ring") }',
      { v: device },
      admin,
    );
    expect(blocked.errors).toBeUndefined();
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'risk sku', price: 990, stock: { 'wh-a': 10 } }]);
    const buyer = await tokenFor(`risky-${Date.now()}`);

    // HTTP: the x-device-id header.
    await expect(placeOrder(stack.gatewayUrl, buyer, [{ skuId: skuIds[0]!, qty: 1 }], {}, { 'x-device-id': device })).rejects.toMatchObject({
      code: 'RISK_REJECTED',
    });

    // graphql-ws: connectionParams.deviceId (a browser cannot set headers on a WebSocket).
    const preview = await overWs(
      buyer,
      { query: 'mutation($i: PreviewOrderInput!) { previewOrder(input: $i) { previewId } }', variables: { i: { items: [{ skuId: skuIds[0], qty: 1 }] } } },
      { deviceId: device },
    );
    expect(preview.errors).toBeUndefined();
    const placed = await overWs(
      buyer,
      {
        query: 'mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id status } } }',
        variables: { i: { previewId: preview.data.previewOrder.previewId, clientReqId: `ws-${randomBytes(4).toString('hex')}` } },
      },
      { deviceId: device },
    );
    expect(placed.errors?.[0]?.extensions?.code).toBe('RISK_REJECTED');
    // Another device over the same socket path is let through.
    const fine = await overWs(
      buyer,
      { query: 'mutation($i: PreviewOrderInput!) { previewOrder(input: $i) { previewId } }', variables: { i: { items: [{ skuId: skuIds[0], qty: 1 }] } } },
      { deviceId: 'dev-ok' },
    );
    const ok = await overWs(
      buyer,
      {
        query: 'mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id status } } }',
        variables: { i: { previewId: fine.data.previewOrder.previewId, clientReqId: `ws-${randomBytes(4).toString('hex')}` } },
      },
      { deviceId: 'dev-ok' },
    );
    expect(ok.errors).toBeUndefined();
    expect(ok.data.placeOrder.order.status).toBe('PENDING_PAYMENT');
    // Risk control saw the socket's address and the declared device, as it does over HTTP.
    const db = database(stack.databaseUrl);
    try {
      const facts = await db.one('SELECT client_ip, device_id FROM ordering.orders WHERE id = $1', [ok.data.placeOrder.order.id]);
      expect(facts).toEqual({ client_ip: expect.stringMatching(/127\.0\.0\.1/), device_id: 'dev-ok' });
    } finally {
      await db.close();
    }
  });

  it('refuses a query over a limit before any subgraph is called, saying which limit and its value', async () => {
    const before = await catalogRequests();
    const heavy = `{ ${Array.from({ length: 300 }, (_, i) => `a${i}: products(first: 100) { edges { node { skus { product { skus { id } } } } } }`).join(' ')} }`;
    const http = await gql(stack.gatewayUrl, heavy);
    expect(http.status).toBe(400);
    expect(http.errors![0]!.extensions).toEqual({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'tokens', max: 2000 });
    const customer = await tokenFor(`limits-${Date.now()}`);
    const ws = await overWs(customer, { query: heavy });
    expect(ws.errors![0]!.extensions).toEqual({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'tokens', max: 2000 });

    // Under the token limit, the alias limit.
    const aliased = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: products(first: 1) { edges { cursor } }`).join(' ')} }`;
    for (const answer of [await gql(stack.gatewayUrl, aliased), await overWs(customer, { query: aliased })]) {
      expect(answer.errors![0]!.extensions).toEqual({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'aliases', max: 30 });
      expect(answer.errors![0]!.message).toMatch(/aliases limit of 30 \(found 31\).*GRAPHQL_MAX_ALIASES/);
    }
    // A subscription over a limit is refused the same way.
    const deepSub = `subscription { orderStatusChanged(orderId: "ord_x") { items { sku { product { skus { product { skus { product { skus { product { skus { product { id } } } } } } } } } } } } }`;
    const sub = await overWs(customer, { query: deepSub });
    expect(sub.errors![0]!.extensions).toEqual({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'depth', max: 12 });
    expect(await catalogRequests()).toBe(before);
  });

  it('labels metrics from a closed set of operation names, and serves /metrics only to operators', async () => {
    expect((await fetch(`http://127.0.0.1:${stack.ports.gateway}/metrics`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${stack.ports.gateway}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const scrape = async () =>
      (await (await fetch(`http://127.0.0.1:${stack.ports.gateway}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text())
        .split('\n')
        .filter((line) => line.startsWith('graphql_request_duration_seconds_count{') || line.startsWith('graphql_requests_total{'));
    const before = await scrape();
    for (let i = 0; i < 40; i += 1) {
      await gql(stack.gatewayUrl, `query Made${i}Up${randomBytes(3).toString('hex')} { products(first: 1) { edges { cursor } } }`);
    }
    const after = await scrape();
    expect(after.filter((line) => /Made\d+Up/.test(line))).toEqual([]);
    expect(after.some((line) => line.includes('operation="other"'))).toBe(true);
    // At most one new series per (label, outcome) for "other": not 40.
    expect(after.length - before.length).toBeLessThanOrEqual(4);
    // Known operations keep their names.
    await gql(stack.gatewayUrl, 'query Products { products(first: 1) { edges { cursor } } }');
    expect((await scrape()).some((line) => line.includes('operation="Products"'))).toBe(true);
  });
});

describe('identity at the edge', () => {
  it('refuses a client token carrying the internal role "service", on both transports', async () => {
    const owner = await tokenFor(`owner-${Date.now()}`);
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'svc', price: 500, stock: { 'wh-a': 2 } }]);
    const order = await placeOrder(stack.gatewayUrl, owner, [{ skuId: skuIds[0]!, qty: 1 }]);
    const service = await tokenFor('svc:order', ['service']);
    const http = await gql(stack.gatewayUrl, 'query($id: ID!) { order(id: $id) { id status } }', { id: order.id }, service);
    expect(http.status).toBe(401);
    expect(http.errors![0]!.extensions?.code).toBe('UNAUTHENTICATED');
    expect(http.errors![0]!.message).toMatch(/role "service"/);
    expect(http.data).toBeUndefined();
    const ws = await overWs(service, { query: 'query($id: ID!) { order(id: $id) { id } }', variables: { id: order.id } });
    expect(ws.closed?.code).toBe(4401);
  });

  it('refuses a client token that lives longer than the maximum lifetime', async () => {
    const now = Math.floor(Date.now() / 1000);
    const century = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('forever')
      .setIssuedAt(now)
      .setExpirationTime(now + 100 * 365 * 86_400)
      .sign(new TextEncoder().encode(DEV_SECRETS.JWT_SECRET));
    const http = await gql(stack.gatewayUrl, '{ products(first: 1) { edges { cursor } } }', {}, century);
    expect(http.status).toBe(401);
    expect(http.errors![0]!.message).toMatch(/the most this server accepts is 86400 s/);
    expect((await overWs(century, { query: '{ cart { subtotal { amount } } }' })).closed?.code).toBe(4401);
  });

  it('binds a forwarded identity to the subgraph it is for', async () => {
    const orderUrl = `http://127.0.0.1:${stack.ports.order}/graphql`;
    const ask = async (identity: string) =>
      (await (
        await fetch(orderUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-shop-identity': identity },
          body: JSON.stringify({ query: '{ addresses { id } }' }),
        })
      ).json()) as { data?: unknown; errors?: { extensions: { code: string } }[] };
    const who = { userId: `bound-${Date.now()}`, roles: [] };
    expect((await ask(await signInternalIdentity(who, 'order'))).errors).toBeUndefined();
    const forCatalog = await ask(await signInternalIdentity(who, 'catalog'));
    expect(forCatalog.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('errors carry no internals', () => {
  it('answers a refund that cannot reach fulfillment with the public code alone', async () => {
    const buyer = await tokenFor(`refund-${Date.now()}`);
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'refund', price: 2100, stock: { 'wh-a': 2 } }]);
    const order = await placeOrder(stack.gatewayUrl, buyer, [{ skuId: skuIds[0]!, qty: 1 }]);
    await stack.kill('fulfillment');
    try {
      // Readiness says which part fails; only an operator reads why (the text names internal addresses).
      const readyz = (headers: Record<string, string> = {}) =>
        fetch(`http://127.0.0.1:${stack.ports.gateway}/readyz`, { headers }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
      const publicView = await eventually(async () => {
        const r = await readyz();
        return r.status === 503 ? r : undefined;
      });
      expect(publicView.body.checks.fulfillment).toBe('failing');
      expect(JSON.stringify(publicView.body)).not.toMatch(/127\.0\.0\.1|http/);
      expect((await readyz({ authorization: `Bearer ${METRICS_TOKEN}` })).body.checks.fulfillment).toMatch(/unreachable|answered/);

      await payOnSimulator(stack.gatewayUrl, buyer, order.id);
      await eventually(
        async () => {
          const o = await gql(stack.gatewayUrl, 'query($id: ID!) { order(id: $id) { status } }', { id: order.id }, buyer);
          return o.data?.order?.status === 'PAID' ? true : undefined;
        },
        { timeoutMs: 20_000 },
      );
      const refund = await gql(
        stack.gatewayUrl,
        'mutation($id: ID!) { requestRefund(orderId: $id, reason: "changed my mind") { id } }',
        { id: order.id },
        buyer,
      );
      expect(refund.errors?.[0]?.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE' });
      expect(JSON.stringify(refund.errors)).not.toMatch(/fulfillment|127\.0\.0\.1|ECONNREFUSED|cause/i);
    } finally {
      stack.launch('fulfillment');
    }
  });
});

describe('addresses at rest', () => {
  it('records the key id, and a ciphertext moved to another user does not decrypt there', async () => {
    const add = (token: string, name: string) =>
      gql(
        stack.gatewayUrl,
        'mutation($i: AddressInput!) { addAddress(input: $i) { id } }',
        { i: { name, phone: '+86 138 0000 0000', line1: '1 Nanjing Road', city: 'Shanghai', country: 'CN' } },
        token,
      );
    const alice = await tokenFor(`alice-${Date.now()}`);
    const mallory = await tokenFor(`mallory-${Date.now()}`);
    const a = (await add(alice, 'Alice Secret')).data!.addAddress.id as string;
    const m = (await add(mallory, 'Mallory')).data!.addAddress.id as string;
    const db = database(stack.databaseUrl);
    try {
      const row = await db.one<{ name_enc: string }>('SELECT name_enc FROM ordering.address WHERE id = $1', [a]);
      expect(row!.name_enc).toMatch(/^v2:k1:/);
      await db.all('UPDATE ordering.address SET name_enc = (SELECT name_enc FROM ordering.address WHERE id = $1) WHERE id = $2', [a, m]);
    } finally {
      await db.close();
    }
    const stolen = await gql(stack.gatewayUrl, '{ addresses { id name } }', {}, mallory);
    expect(JSON.stringify(stolen)).not.toMatch(/Alice Secret/);
    expect(stolen.errors?.[0]?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect((await gql(stack.gatewayUrl, '{ addresses { name } }', {}, alice)).data!.addresses).toEqual([{ name: 'Alice Secret' }]);
  });
});
