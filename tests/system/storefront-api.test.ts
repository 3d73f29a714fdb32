import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInternalIdentity } from '@shop/kit';
import { gql, tokenFor } from '../support/gateway-client.js';
import { database, seedProduct, systemStack } from '../support/system.js';

let stack: Awaited<ReturnType<typeof systemStack>>;
let db: ReturnType<typeof database>;
let skuIds: string[] = [];
const tag = `sys${Date.now().toString(36)}`;
beforeAll(async () => {
  stack = await systemStack();
  db = database(stack.databaseUrl);
  ({ skuIds } = await seedProduct(
    stack.gatewayUrl,
    [
      { title: 'Small', price: 1250, stock: { 'wh-a': 3, 'wh-b': 4 } },
      { title: 'Large', price: 2000, stock: { 'wh-a': 1 } },
    ],
    `Jasmine tea ${tag}`,
  ));
  for (let i = 0; i < 3; i++) await seedProduct(stack.gatewayUrl, [{ title: 'x', price: 100, stock: {} }], `Pager ${tag} ${i}`);
}, 120_000);
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

const code = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.[0]?.extensions?.code;

describe('the storefront API through the gateway', () => {
  it('lets anyone browse with pagination and search, joining catalog and inventory fields in one query', async () => {
    const Q = `query($after: String, $s: String) { products(first: 2, after: $after, search: $s) { edges { node { id title skus { id title price { amount currency } available } } } pageInfo { hasNextPage endCursor } } }`;
    const first = await gql(stack.gatewayUrl, Q, { s: `pager ${tag}` });
    expect(first.status).toBe(200);
    expect(first.data!.products.edges).toHaveLength(2);
    expect(first.data!.products.pageInfo.hasNextPage).toBe(true);
    const second = await gql(stack.gatewayUrl, Q, { s: `pager ${tag}`, after: first.data!.products.pageInfo.endCursor });
    expect(second.data!.products.edges).toHaveLength(1);
    const tea = await gql(stack.gatewayUrl, Q, { s: `jasmine ${tag}` });
    expect(tea.data!.products.edges[0].node.skus).toEqual([
      { id: skuIds[0], title: 'Small', price: { amount: 1250, currency: 'CNY' }, available: 7 },
      { id: skuIds[1], title: 'Large', price: { amount: 2000, currency: 'CNY' }, available: 1 },
    ]);
    const sku = await gql(stack.gatewayUrl, `query($id: ID!) { sku(id: $id) { title available product { title } } }`, { id: skuIds[0] });
    expect(sku.data!.sku).toEqual({ title: 'Small', available: 7, product: { title: `Jasmine tea ${tag}` } });
  });

  it('keeps a cart per user with federated SKU fields: add, update, remove', async () => {
    const alice = await tokenFor(`alice-${tag}`);
    const CART = `{ items { qty sku { id title price { amount } available } } subtotal { amount currency } }`;
    const added = await gql(stack.gatewayUrl, `mutation($s: ID!) { addToCart(skuId: $s, qty: 2) ${CART} }`, { s: skuIds[0] }, alice);
    expect(added.data!.addToCart).toEqual({
      items: [{ qty: 2, sku: { id: skuIds[0], title: 'Small', price: { amount: 1250 }, available: 7 } }],
      subtotal: { amount: 2500, currency: 'CNY' },
    });
    await gql(stack.gatewayUrl, `mutation($s: ID!) { addToCart(skuId: $s, qty: 1) { subtotal { amount } } }`, { s: skuIds[1] }, alice);
    const updated = await gql(stack.gatewayUrl, `mutation($s: ID!) { setCartItemQty(skuId: $s, qty: 5) ${CART} }`, { s: skuIds[0] }, alice);
    expect(updated.data!.setCartItemQty.subtotal.amount).toBe(5 * 1250 + 2000);
    const removed = await gql(stack.gatewayUrl, `mutation($s: ID!) { setCartItemQty(skuId: $s, qty: 0) ${CART} }`, { s: skuIds[0] }, alice);
    expect(removed.data!.setCartItemQty.items.map((i: any) => i.sku.id)).toEqual([skuIds[1]]);
    const bob = await gql(stack.gatewayUrl, `{ cart ${CART} }`, {}, await tokenFor(`bob-${tag}`));
    expect(bob.data!.cart).toEqual({ items: [], subtotal: { amount: 0, currency: 'CNY' } });
    expect(code(await gql(stack.gatewayUrl, `{ cart ${CART} }`))).toBe('UNAUTHENTICATED');
  });

  it('stores addresses encrypted and shows them only to their owner', async () => {
    const owner = await tokenFor(`carol-${tag}`);
    const added = await gql(
      stack.gatewayUrl,
      `mutation($i: AddressInput!) { addAddress(input: $i) { id name } }`,
      {
        i: { name: 'Wang Fang', phone: '13900001111', line1: '88 Century Avenue', city: 'Shanghai', country: 'CN' },
      },
      owner,
    );
    const raw = await db.one<Record<string, string>>('SELECT name_enc, phone_enc, line1_enc FROM ordering.address WHERE id = $1', [added.data!.addAddress.id]);
    expect(Object.values(raw!).join(' ')).not.toMatch(/Wang|13900001111|Century/);
    expect((await gql(stack.gatewayUrl, `{ addresses { name } }`, {}, owner)).data!.addresses).toEqual([{ name: 'Wang Fang' }]);
    expect((await gql(stack.gatewayUrl, `{ addresses { name } }`, {}, await tokenFor(`dave-${tag}`))).data!.addresses).toEqual([]);
  });

  it('refuses admin-only mutations to a customer', async () => {
    const customer = await tokenFor(`eve-${tag}`);
    const create = await gql(
      stack.gatewayUrl,
      `mutation { createProduct(input: { title: "x", description: "", skus: [{ title: "a", price: 1, currency: "CNY" }] }) { id } }`,
      {},
      customer,
    );
    expect(code(create)).toBe('FORBIDDEN');
    const stock = await gql(
      stack.gatewayUrl,
      `mutation($s: ID!) { setStock(skuId: $s, warehouseId: "wh-a", onHand: 999) { available } }`,
      { s: skuIds[0] },
      customer,
    );
    expect(code(stock)).toBe('FORBIDDEN');
  });

  it('refuses a forged identity sent straight to a subgraph, and a bad token at the gateway', async () => {
    const catalogUrl = `http://127.0.0.1:${stack.ports.catalog}/graphql`;
    const mutation = JSON.stringify({
      query: `mutation { createProduct(input: { title: "forged", description: "", skus: [{ title: "a", price: 1, currency: "CNY" }] }) { id } }`,
    });
    // A token signed with the client JWT secret is not a forwarded identity.
    const clientToken = await tokenFor('mallory', ['admin']);
    for (const header of [clientToken, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5Iiwicm9sZXMiOlsiYWRtaW4iXX0.']) {
      const res = await fetch(catalogUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-shop-identity': header }, body: mutation });
      const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
      expect(code(body)).toBe('UNAUTHENTICATED');
    }
    // The gateway never passes a client's own identity header on.
    const viaGateway = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shop-identity': await signInternalIdentity({ userId: 'x', roles: ['admin'] }) },
      body: mutation,
    });
    expect(code((await viaGateway.json()) as never)).toBe('UNAUTHENTICATED');
    const bad = await gql(stack.gatewayUrl, `{ cart { items { qty } } }`, {}, 'not-a-jwt');
    expect(bad.status).toBe(401);
    expect(code(bad)).toBe('UNAUTHENTICATED');
  });

  it('answers malformed input with BAD_USER_INPUT and never leaks internals', async () => {
    const t = await tokenFor(`frank-${tag}`);
    const cases = [
      gql(stack.gatewayUrl, `{ sku(id: "'; DROP TABLE sku; --") { id } }`),
      gql(stack.gatewayUrl, `mutation($s: ID!) { addToCart(skuId: $s, qty: 0) { subtotal { amount } } }`, { s: skuIds[0] }, t),
      gql(stack.gatewayUrl, `mutation($s: ID!) { addToCart(skuId: $s, qty: 100000) { subtotal { amount } } }`, { s: skuIds[0] }, t),
      gql(stack.gatewayUrl, `mutation { addToCart(skuId: "sku_00000000000000000000000000000000", qty: 1) { subtotal { amount } } }`, {}, t),
      gql(stack.gatewayUrl, `{ products(first: -1) { edges { cursor } } }`),
    ];
    for (const res of await Promise.all(cases)) {
      expect(code(res)).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(res)).not.toMatch(/stack|SELECT|INSERT|at .*\.js/);
    }
  });

  it('exposes the histograms and counters behind seed-design §12 on every subgraph, and no per-process percentile', async () => {
    // The §12 names themselves are Prometheus recording rules over these (infra/monitoring/rules.yml).
    const names: Record<string, string[]> = {
      order: ['# TYPE order_create_total counter', 'order_create_duration_seconds_bucket'],
      inventory: ['# TYPE reserve_commands_total counter', 'stock_release_lag_seconds_bucket', 'oversell_count 0'],
      payment: ['payment_callback_delay_seconds_bucket', 'saga_compensation_count', 'reconciliation_diff_count'],
    };
    for (const [subgraph, expected] of Object.entries(names)) {
      const text = await (await fetch(`http://127.0.0.1:${stack.ports[subgraph]}/metrics`)).text();
      for (const name of expected) expect(text, `${subgraph} /metrics`).toContain(`\n${name}`);
      for (const perProcess of ['order_create_p95_ms', 'order_fail_rate', 'reserve_success_rate', 'stock_release_lag_sec ', 'payment_callback_delay_p95']) {
        expect(text, `${subgraph} /metrics`).not.toContain(`\n${perProcess}`);
      }
    }
    const gateway = await (await fetch(stack.gatewayUrl.replace('/graphql', '/metrics'))).text();
    expect(gateway).toContain('graphql_requests_total');
  });

  it('serves automatic persisted queries, and only safelisted operations to partners', async () => {
    const { createHash } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    const post = async (body: unknown, token?: string) => {
      const res = await fetch(stack.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: res.status, ...((await res.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] }) };
    };
    const query = `{ products(first: 1, search: "jasmine ${tag}") { edges { node { title } } } }`;
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const apq = { extensions: { persistedQuery: { version: 1, sha256Hash } } };
    expect(code(await post(apq))).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await post({ query, ...apq })).data.products.edges[0].node.title).toBe(`Jasmine tea ${tag}`);
    expect((await post(apq)).data.products.edges[0].node.title).toBe(`Jasmine tea ${tag}`);

    const partner = await tokenFor(`partner-${tag}`, ['partner']);
    const manifest = JSON.parse(readFileSync('schema/operations/partner-operations.json', 'utf8')) as { operations: { id: string; name: string }[] };
    const stock = manifest.operations.find((o) => o.name === 'PartnerSkuStock')!;
    const listed = await post({ variables: { id: skuIds[0] }, extensions: { persistedQuery: { version: 1, sha256Hash: stock.id } } }, partner);
    expect(listed.data.sku).toMatchObject({ id: skuIds[0], available: 7 });
    expect(code(await post({ query }, partner))).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    expect(code(await post({ query, ...apq }, partner))).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('refuses orders of a blocked user or device with RISK_REJECTED, and writes no order', async () => {
    const admin = await tokenFor(`risk-admin-${tag}`, ['admin']);
    const place = async (token: string, headers: Record<string, string> = {}) => {
      const preview = await gql(
        stack.gatewayUrl,
        `mutation($s: ID!) { previewOrder(input: { items: [{ skuId: $s, qty: 1 }] }) { previewId } }`,
        { s: skuIds[0] },
        token,
        headers,
      );
      return gql(
        stack.gatewayUrl,
        `mutation($p: ID!, $k: String!) { placeOrder(input: { previewId: $p, clientReqId: $k }) { order { id } } }`,
        { p: preview.data!.previewOrder.previewId, k: `risk-${Date.now()}` },
        token,
        headers,
      );
    };
    const blockedUser = `blocked-${tag}`;
    const block = await gql(
      stack.gatewayUrl,
      `mutation($v: String!) { blockRiskSubject(kind: "USER", value: $v, reason: "chargebacks") }`,
      { v: blockedUser },
      admin,
    );
    expect(block.data!.blockRiskSubject).toBe(true);
    const refused = await place(await tokenFor(blockedUser));
    expect(code(refused)).toBe('RISK_REJECTED');
    expect(refused.errors![0]!.message).not.toMatch(/block|rule|chargeback/i);

    const device = `device-${tag}`;
    await gql(stack.gatewayUrl, `mutation($v: String!) { blockRiskSubject(kind: "DEVICE", value: $v, reason: "fraud ring") }`, { v: device }, admin);
    const fromDevice = await tokenFor(`gina-${tag}`);
    expect(code(await place(fromDevice, { 'x-device-id': device }))).toBe('RISK_REJECTED');
    expect((await place(fromDevice, { 'x-device-id': `other-${tag}` })).data!.placeOrder.order.id).toMatch(/^ord_/);
    const orders = await db.all('SELECT id FROM ordering.orders WHERE user_id = $1', [blockedUser]);
    expect(orders).toEqual([]);
  });
});
