import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Connection } from 'rabbitmq-client';
import type { EventEnvelope } from '@shop/schema';
import { amqpUrl, databaseUrl, eventsExchange, mintClientToken } from '@shop/kit';
import { admin, envelopeOf, errorCode, eventually, user, type GraphQLResponse } from '@shop/kit/testing';
import { createStockedSku } from '../../../tests/support/fixtures.js';
import { startGateway, startStack, type RunningGateway, type Stack } from '../subscriptions/test-support.js';
import { rootFieldTag } from './response-cache.js';

let stack: Stack;
let gw: RunningGateway;
const urls = () => ({ catalog: stack.catalog.url, inventory: stack.inventory.url });

beforeAll(async () => {
  stack = await startStack();
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.stop();
  await stack?.stop();
});

/** A POST to the gateway; `cached` when the answer came from the response cache (it carries an `age`). */
async function post(query: string, variables: Record<string, unknown> = {}, identity?: { userId: string; roles: string[] }) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (identity) headers.authorization = `Bearer ${await mintClientToken(identity)}`;
  const response = await fetch(gw.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { cached: response.headers.has('age'), body: (await response.json()) as GraphQLResponse<any> };
}

const SKU = `query Sku($id: ID!) { sku(id: $id) { id title price { amount } available } }`;

/** Publishes an event to the events exchange as a subgraph's relay would. */
async function publish(event: EventEnvelope): Promise<void> {
  const connection = new Connection(amqpUrl());
  const publisher = connection.createPublisher({ confirm: true });
  try {
    await publisher.send({ exchange: eventsExchange(), routingKey: event.type, contentType: 'application/json' }, event);
  } finally {
    await publisher.close();
    await connection.close();
  }
}

/** The rows of one statement on the stack's database, outside every subgraph. */
async function sqlRows<T extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A statement on the catalog's own tables: a change the catalog's tests cover, made here without its event. */
const catalogSql = async (text: string, values: unknown[]): Promise<void> => void (await sqlRows(text, values));

/** Events about these ids that the catalog or inventory wrote and has not published yet. */
async function unpublishedAbout(ids: string[]): Promise<number> {
  const [row] = await sqlRows<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT body FROM catalog.outbox WHERE published_at IS NULL
       UNION ALL SELECT body FROM inventory.outbox WHERE published_at IS NULL) o
      WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) id WHERE o.body::text LIKE '%' || id || '%')`,
    [ids],
  );
  return row!.n;
}

/**
 * Waits until the events of these ids' creation can no longer drop what the test caches next: the
 * catalog and inventory published them all (the outbox relay batches them for 15 ms), and every
 * read is then answered from the cache twice in a row (the gateway consumed them).
 */
async function cachedAfterCreation(ids: string[], reads: [string, Record<string, unknown>][]): Promise<void> {
  await eventually(async () => ((await unpublishedAbout(ids)) === 0 ? true : undefined));
  let inARow = 0;
  await eventually(async () => {
    const answers = await Promise.all(reads.map(([query, variables]) => post(query, variables)));
    inARow = answers.every((a) => a.cached) ? inARow + 1 : 0;
    return inARow >= 2 ? true : undefined;
  });
}

const productOf = async (skuId: string): Promise<string> =>
  (await post(`query($id: ID!) { sku(id: $id) { productId } }`, { id: skuId })).body.data.sku.productId;

describe('gateway response cache', () => {
  it('answers a repeated anonymous catalog read from the cache, with the subgraphs hints', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-cache': 7 } });
    // Another read of the SKU, until its creation events are consumed (they would drop the answers below).
    await cachedAfterCreation([skuId], [[`query($id: ID!) { sku(id: $id) { id } }`, { id: skuId }]]);
    const first = await post(SKU, { id: skuId });
    expect(first.cached).toBe(false);
    expect(first.body.data.sku).toMatchObject({ id: skuId, available: 7 });
    expect(gw.gateway.fastReads.cache.holds(skuId)).toBe(true);
    const second = await post(SKU, { id: skuId });
    expect(second.cached).toBe(true);
    expect(second.body).toEqual(first.body);
  });

  it('never serves nor stores an identified request: personal data stays out of the shared cache', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-cache': 3 } });
    await post(SKU, { id: skuId });
    const alice = user();
    // A catalog read with a token is answered by the subgraphs, not by another client's cached answer.
    expect((await post(SKU, { id: skuId }, alice)).cached).toBe(false);

    const ADDRESSES = `query Addresses { addresses { id name } }`;
    const added = await post(
      `mutation($input: AddressInput!) { addAddress(input: $input) { id } }`,
      { input: { name: 'Alice Cache', phone: '+86 138 0000 0001', line1: '1 Cache Road', city: 'Shanghai', country: 'CN' } },
      alice,
    );
    expect(added.body.errors).toBeUndefined();
    const entries = gw.gateway.fastReads.cache.size;
    const hers = await post(ADDRESSES, {}, alice);
    expect(hers.body.data.addresses).toEqual([{ id: added.body.data.addAddress.id, name: 'Alice Cache' }]);
    // Her answer was not stored: the same query from someone else or from nobody never sees it.
    expect(gw.gateway.fastReads.cache.size).toBe(entries);
    const bob = await post(ADDRESSES, {}, user());
    expect(bob.cached).toBe(false);
    expect(bob.body.data.addresses).toEqual([]);
    const anonymous = await post(ADDRESSES);
    expect(anonymous.cached).toBe(false);
    expect(errorCode(anonymous.body)).toBe('UNAUTHENTICATED');
    expect(JSON.stringify(anonymous.body)).not.toContain('Alice Cache');
    expect(gw.gateway.fastReads.cache.size).toBe(entries);
  });

  it('does not store an anonymous answer with an error or with a field no subgraph hints (operator stock)', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-cache': 2 } });
    const entries = gw.gateway.fastReads.cache.size;
    const refused = await post(`query($id: ID!) { sku(id: $id) { id stock { warehouseId available } } }`, { id: skuId });
    expect(errorCode(refused.body)).toBe('UNAUTHENTICATED');
    expect((await post(`query($id: ID!) { sku(id: $id) { id stock { warehouseId available } } }`, { id: skuId })).cached).toBe(false);
    expect(gw.gateway.fastReads.cache.size).toBe(entries);
  });

  it("drops cached answers of a SKU when inventory's event says its stock was taken, so the new stock shows", async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-cache': 5 } });
    await cachedAfterCreation([skuId], [[SKU, { id: skuId }]]);
    expect((await post(SKU, { id: skuId })).body.data.sku.available).toBe(5);
    // The stock changes (an operator here; a reservation in production), then the event arrives.
    const set = await post(`mutation($s: ID!, $w: ID!) { setStock(skuId: $s, warehouseId: $w, onHand: 0) { id } }`, { s: skuId, w: 'wh-cache' }, admin());
    expect(set.body.errors).toBeUndefined();
    await publish(envelopeOf('inventory.stock-reserved', 'ord_cache', { orderId: 'ord_cache', allocations: [{ skuId, warehouseId: 'wh-cache', qty: 5 }] }));
    // Dropped by the event, not by age: an expired entry stays indexed until it is read again.
    await eventually(async () => (gw.gateway.fastReads.cache.holds(skuId) ? undefined : true));
    const fresh = await post(SKU, { id: skuId });
    expect(fresh.cached).toBe(false);
    expect(fresh.body.data.sku.available).toBe(0);
  });

  it("drops the cached answers of a SKU and of its product on the catalog's sku-changed, so a new price shows on the next read", async () => {
    const skuId = await createStockedSku(urls(), { price: 10000, stock: { 'wh-cache': 4 } });
    const productId = await productOf(skuId);
    const PRODUCT = `query Product($id: ID!) { product(id: $id) { title skus { price { amount } } } }`;
    expect((await post(SKU, { id: skuId })).body.data.sku.price.amount).toBe(10000);
    // This answer holds no id: it is tagged with the id it asked for.
    expect((await post(PRODUCT, { id: productId })).body.data.product.skus).toEqual([{ price: { amount: 10000 } }]);
    const PAGE = `query Page($id: ID!) { product(id: $id) { id title skus { id price { amount } } } }`;
    expect((await post(PAGE, { id: productId })).body.data.product.skus).toEqual([{ id: skuId, price: { amount: 10000 } }]);
    await cachedAfterCreation(
      [skuId, productId],
      [
        [SKU, { id: skuId }],
        [PRODUCT, { id: productId }],
        [PAGE, { id: productId }],
      ],
    );

    await catalogSql('UPDATE catalog.sku SET price_amount = 12500 WHERE id = $1', [skuId]);
    // Without the event, both answers stay as cached (their hint is minutes).
    const stale = await post(SKU, { id: skuId });
    expect(stale.cached).toBe(true);
    expect(stale.body.data.sku.price.amount).toBe(10000);
    expect((await post(PAGE, { id: productId })).cached).toBe(true);
    expect((await post(PRODUCT, { id: productId })).cached).toBe(true);

    await publish(
      envelopeOf('catalog.sku-changed', skuId, {
        skuId,
        productId,
        title: 'one',
        flashSale: false,
        flashSaleStartsAt: null,
        price: { amount: 12500, currency: 'CNY' },
        revision: 2,
      }),
    );
    await eventually(async () => (gw.gateway.fastReads.cache.holds(skuId) || gw.gateway.fastReads.cache.holds(productId) ? undefined : true));
    const fresh = await post(SKU, { id: skuId });
    expect(fresh.cached).toBe(false);
    expect(fresh.body.data.sku.price.amount).toBe(12500);
    const page = await post(PAGE, { id: productId });
    expect(page.cached).toBe(false);
    expect(page.body.data.product.skus).toEqual([{ id: skuId, price: { amount: 12500 } }]);
    const product = await post(PRODUCT, { id: productId });
    expect(product.cached).toBe(false);
    expect(product.body.data.product.skus).toEqual([{ price: { amount: 12500 } }]);
  });

  it("drops every cached listing and search on the catalog's product-changed: a new product enters a page that held none of its ids", async () => {
    const word = `zq${Date.now().toString(36)}`;
    const SEARCH = `query Search($s: String) { products(search: $s, first: 5) { totalCount edges { node { id title } } } }`;
    const CATEGORIES = `query Categories { categories { slug } }`;
    const before = await post(SEARCH, { s: word });
    expect(before.body.data.products.totalCount).toBe(0);
    await post(CATEGORIES);
    expect((await post(SEARCH, { s: word })).cached).toBe(true);
    expect(gw.gateway.fastReads.cache.holds(rootFieldTag('categories'))).toBe(true);

    const skuId = await createStockedSku(urls(), { title: `Product ${word}`, stock: { 'wh-cache': 1 } });
    const productId = await productOf(skuId);
    await publish(envelopeOf('catalog.product-changed', productId, { productId, skuIds: [skuId] }));
    await eventually(async () =>
      gw.gateway.fastReads.cache.holds(rootFieldTag('products')) || gw.gateway.fastReads.cache.holds(rootFieldTag('categories')) ? undefined : true,
    );
    const after = await post(SEARCH, { s: word });
    expect(after.cached).toBe(false);
    expect(after.body.data.products.edges).toEqual([{ node: { id: productId, title: `Product ${word}` } }]);
  });
});
