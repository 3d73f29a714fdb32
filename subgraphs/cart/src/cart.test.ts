import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@shop/kit';
import { admin, callSubgraph, errorCode, user } from '@shop/kit/testing';
import { start as startCatalog } from '@shop/catalog';
import { start } from './index.js';

let catalog: Awaited<ReturnType<typeof startCatalog>>;
let server: Awaited<ReturnType<typeof start>>;
beforeAll(async () => {
  catalog = await startCatalog(0);
  process.env.CATALOG_URL = catalog.url;
  server = await start(0);
});
afterAll(async () => {
  await server?.stop();
  await catalog?.stop();
});

const CART = `{ cart { items { sku { id } qty } subtotal { amount currency } } }`;
const ADD = `mutation($s: ID!, $q: Int!) { addToCart(skuId: $s, qty: $q) { items { sku { id } qty } subtotal { amount currency } } }`;
const SET = `mutation($s: ID!, $q: Int!) { setCartItemQty(skuId: $s, qty: $q) { items { sku { id } qty } subtotal { amount currency } } }`;

async function createSkus(prices: number[], currency = 'CNY'): Promise<string[]> {
  const res = await callSubgraph(
    catalog.url,
    `mutation($input: CreateProductInput!) { createProduct(input: $input) { skus { id } } }`,
    { input: { title: 'Cart test product', description: 'cart', skus: prices.map((price, i) => ({ title: `v${i}`, price, currency })) } },
    admin(),
  );
  expect(res.errors).toBeUndefined();
  return res.data!.createProduct.skus.map((s: { id: string }) => s.id);
}

describe('cart subgraph', () => {
  it('adds, updates and removes lines, with the subtotal in integer minor units', async () => {
    const [tea, cup] = await createSkus([12800, 1990]);
    const me = user();
    expect((await callSubgraph(server.url, CART, {}, me)).data!.cart).toEqual({ items: [], subtotal: { amount: 0, currency: 'CNY' } });

    await callSubgraph(server.url, ADD, { s: tea, q: 2 }, me);
    const added = await callSubgraph(server.url, ADD, { s: tea, q: 1 }, me);
    expect(added.data!.addToCart).toEqual({ items: [{ sku: { id: tea }, qty: 3 }], subtotal: { amount: 38400, currency: 'CNY' } });

    const two = await callSubgraph(server.url, ADD, { s: cup, q: 4 }, me);
    expect(two.data!.addToCart.items).toEqual([
      { sku: { id: tea }, qty: 3 },
      { sku: { id: cup }, qty: 4 },
    ]);
    expect(two.data!.addToCart.subtotal).toEqual({ amount: 38400 + 7960, currency: 'CNY' });

    const set = await callSubgraph(server.url, SET, { s: tea, q: 1 }, me);
    expect(set.data!.setCartItemQty.subtotal.amount).toBe(12800 + 7960);
    const removed = await callSubgraph(server.url, SET, { s: cup, q: 0 }, me);
    expect(removed.data!.setCartItemQty).toEqual({ items: [{ sku: { id: tea }, qty: 1 }], subtotal: { amount: 12800, currency: 'CNY' } });
    // setCartItemQty can also create a line, and removing an absent line is a no-op.
    expect((await callSubgraph(server.url, SET, { s: cup, q: 2 }, me)).data!.setCartItemQty.items).toHaveLength(2);
    expect((await callSubgraph(server.url, SET, { s: newId('sku'), q: 0 }, me)).data!.setCartItemQty.items).toHaveLength(2);
  });

  it("keeps each user's cart separate", async () => {
    const [sku] = await createSkus([500]);
    const alice = user();
    const bob = user();
    await callSubgraph(server.url, ADD, { s: sku, q: 5 }, alice);
    expect((await callSubgraph(server.url, CART, {}, bob)).data!.cart.items).toEqual([]);
    await callSubgraph(server.url, ADD, { s: sku, q: 1 }, bob);
    expect((await callSubgraph(server.url, CART, {}, alice)).data!.cart.items).toEqual([{ sku: { id: sku }, qty: 5 }]);
  });

  it('needs a signed-in user', async () => {
    const [sku] = await createSkus([100]);
    expect(errorCode(await callSubgraph(server.url, CART))).toBe('UNAUTHENTICATED');
    expect(errorCode(await callSubgraph(server.url, ADD, { s: sku, q: 1 }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await callSubgraph(server.url, SET, { s: sku, q: 1 }))).toBe('UNAUTHENTICATED');
  });

  it('answers bad quantities, malformed and unknown SKUs with BAD_USER_INPUT', async () => {
    const [sku] = await createSkus([100]);
    const me = user();
    for (const [query, s, q] of [
      [ADD, sku, 0],
      [ADD, sku, -1],
      [ADD, sku, 100],
      [SET, sku, -1],
      [SET, sku, 100],
      [ADD, 'sku_1; DROP TABLE cart_line', 1],
      [SET, 'nope', 0],
      [ADD, newId('sku'), 1],
      [SET, newId('sku'), 1],
    ] as const) {
      expect(errorCode(await callSubgraph(server.url, query, { s, q }, me)), `${s} ${q}`).toBe('BAD_USER_INPUT');
    }
    expect((await callSubgraph(server.url, CART, {}, me)).data!.cart.items).toEqual([]);
  });

  it('holds a line to 99, even when added concurrently', async () => {
    const [sku] = await createSkus([100]);
    const me = user();
    await callSubgraph(server.url, ADD, { s: sku, q: 98 }, me);
    expect(errorCode(await callSubgraph(server.url, ADD, { s: sku, q: 2 }, me))).toBe('BAD_USER_INPUT');
    expect((await callSubgraph(server.url, ADD, { s: sku, q: 1 }, me)).data!.addToCart.items).toEqual([{ sku: { id: sku }, qty: 99 }]);

    const other = user();
    const results = await Promise.all(Array.from({ length: 30 }, () => callSubgraph(server.url, ADD, { s: sku, q: 4 }, other)));
    expect(results.filter((r) => !r.errors)).toHaveLength(24);
    expect((await callSubgraph(server.url, CART, {}, other)).data!.cart.items).toEqual([{ sku: { id: sku }, qty: 96 }]);
  });

  it('holds a cart to 50 lines, even when added concurrently', async () => {
    const skus = await createSkus(Array.from({ length: 50 }, (_, i) => 100 + i));
    const extra = await createSkus(Array.from({ length: 10 }, () => 1));
    const me = user();
    const results = await Promise.all([...skus, ...extra].map((s) => callSubgraph(server.url, ADD, { s, q: 1 }, me)));
    expect(results.filter((r) => !r.errors)).toHaveLength(50);
    expect(results.filter((r) => errorCode(r) === 'BAD_USER_INPUT')).toHaveLength(10);
    const cart = (await callSubgraph(server.url, CART, {}, me)).data!.cart;
    expect(cart.items).toHaveLength(50);
    // A line already in the cart can still change.
    const present = cart.items[0].sku.id;
    expect((await callSubgraph(server.url, ADD, { s: present, q: 1 }, me)).errors).toBeUndefined();
    expect(errorCode(await callSubgraph(server.url, SET, { s: extra.find((e) => !cart.items.some((i: any) => i.sku.id === e)) ?? extra[0], q: 1 }, me))).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('keeps one currency per cart', async () => {
    const [yuan] = await createSkus([100], 'CNY');
    const [dollar] = await createSkus([100], 'USD');
    const me = user();
    await callSubgraph(server.url, ADD, { s: yuan, q: 1 }, me);
    expect(errorCode(await callSubgraph(server.url, ADD, { s: dollar, q: 1 }, me))).toBe('BAD_USER_INPUT');
    await callSubgraph(server.url, SET, { s: yuan, q: 0 }, me);
    const usd = await callSubgraph(server.url, ADD, { s: dollar, q: 2 }, me);
    expect(usd.data!.addToCart.subtotal).toEqual({ amount: 200, currency: 'USD' });
  });
});
