import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, callSubgraph, errorCode, sql, user } from '@shop/kit/testing';
import { openDatabase } from '@shop/kit';
import { start } from './index.js';
import { database } from './persistence.js';

let server: Awaited<ReturnType<typeof start>>;
let orm: Awaited<ReturnType<typeof openDatabase>>;
beforeAll(async () => {
  server = await start(0);
  orm = await openDatabase(database);
});
afterAll(async () => {
  await server?.stop();
  await orm?.close();
});

/** The events the catalog recorded in its outbox about an aggregate (a SKU or a product), oldest first. */
const recorded = async (aggregateId: string) =>
  (
    await sql(orm.em.fork()).all<{ body: { type: string; payload: Record<string, unknown> } }>(
      `SELECT body FROM outbox WHERE body->>'aggregateId' = ? ORDER BY created_at, event_id`,
      [aggregateId],
    )
  ).map((r) => ({ type: r.body.type, payload: r.body.payload }));

const CREATE = `mutation($input: CreateProductInput!) { createProduct(input: $input) { id title skus { id title price { amount currency } flashSale } } }`;
const tag = `zz${Date.now().toString(36)}`;

describe('catalog subgraph', () => {
  it('creates a product with SKUs for an admin and finds it by text search', async () => {
    const created = await callSubgraph(
      server.url,
      CREATE,
      {
        input: { title: `Green tea ${tag}`, description: 'Longjing from Hangzhou', skus: [{ title: '100 g', price: 5900, currency: 'CNY' }] },
      },
      admin(),
    );
    expect(created.errors).toBeUndefined();
    const product = created.data!.createProduct;
    expect(product.id).toMatch(/^prd_[0-9a-f]{32}$/);
    expect(product.skus[0]).toMatchObject({ title: '100 g', price: { amount: 5900, currency: 'CNY' }, flashSale: false });

    const found = await callSubgraph(server.url, `query($s: String) { products(first: 5, search: $s) { edges { node { id } } } }`, { s: tag });
    expect(found.data!.products.edges.map((e: any) => e.node.id)).toEqual([product.id]);
  });

  it('keeps when a flash sale starts, and refuses a start time on a SKU that is not a flash-sale SKU', async () => {
    const startsAt = '2031-11-11T00:00:00.000Z';
    const Q = `mutation($input: CreateProductInput!) { createProduct(input: $input) { skus { flashSale flashSaleStartsAt } } }`;
    const sku = (flashSale: boolean) => ({ title: 'midnight', price: 100, currency: 'CNY', flashSale, flashSaleStartsAt: startsAt });
    const created = await callSubgraph(server.url, Q, { input: { title: `Lantern ${tag}`, description: '', skus: [sku(true)] } }, admin());
    expect(created.data!.createProduct.skus).toEqual([{ flashSale: true, flashSaleStartsAt: startsAt }]);
    const refused = await callSubgraph(server.url, Q, { input: { title: `Lantern ${tag}`, description: '', skus: [sku(false)] } }, admin());
    expect(errorCode(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors![0]!.extensions).toMatchObject({ field: 'skus[0].flashSaleStartsAt' });
  });

  it('refuses createProduct to a customer and to an anonymous caller', async () => {
    const input = { title: 'x', description: '', skus: [{ title: 'a', price: 1, currency: 'CNY' }] };
    expect(errorCode(await callSubgraph(server.url, CREATE, { input }, user()))).toBe('FORBIDDEN');
    expect(errorCode(await callSubgraph(server.url, CREATE, { input }))).toBe('UNAUTHENTICATED');
  });

  it('rejects bad prices, currencies and empty SKU lists with BAD_USER_INPUT', async () => {
    for (const skus of [[{ title: 'a', price: -1, currency: 'CNY' }], [{ title: 'a', price: 1, currency: 'yuan' }], []]) {
      const res = await callSubgraph(server.url, CREATE, { input: { title: 'x', description: '', skus } }, admin());
      expect(errorCode(res)).toBe('BAD_USER_INPUT');
    }
  });

  it('pages through products with opaque cursors and no overlap', async () => {
    for (let i = 0; i < 3; i++) {
      await callSubgraph(
        server.url,
        CREATE,
        { input: { title: `Page ${tag} ${i}`, description: 'paging', skus: [{ title: 'one', price: 100, currency: 'CNY' }] } },
        admin(),
      );
    }
    const q = `query($after: String, $s: String) { products(first: 2, after: $after, search: $s) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;
    const first = await callSubgraph(server.url, q, { s: `page ${tag}` });
    expect(first.data!.products.edges).toHaveLength(2);
    expect(first.data!.products.pageInfo.hasNextPage).toBe(true);
    const second = await callSubgraph(server.url, q, { s: `page ${tag}`, after: first.data!.products.pageInfo.endCursor });
    expect(second.data!.products.edges).toHaveLength(1);
    expect(second.data!.products.pageInfo.hasNextPage).toBe(false);
    const ids = [...first.data!.products.edges, ...second.data!.products.edges].map((e: any) => e.node.id);
    expect(new Set(ids).size).toBe(3);
  });

  it('answers malformed ids and cursors with BAD_USER_INPUT and unknown ids with null', async () => {
    expect(errorCode(await callSubgraph(server.url, `{ sku(id: "1 OR 1=1") { id } }`))).toBe('BAD_USER_INPUT');
    expect(errorCode(await callSubgraph(server.url, `{ products(after: "garbage") { edges { cursor } } }`))).toBe('BAD_USER_INPUT');
    expect(errorCode(await callSubgraph(server.url, `{ products(first: 1000) { edges { cursor } } }`))).toBe('BAD_USER_INPUT');
    const missing = await callSubgraph(server.url, `{ product(id: "prd_00000000000000000000000000000000") { id } }`);
    expect(missing.data!.product).toBeNull();
  });

  it('refuses a forged forwarded identity', async () => {
    const res = await callSubgraph(server.url, CREATE, { input: {} }, undefined, {
      'x-shop-identity': 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiIsInJvbGVzIjpbImFkbWluIl19.',
    });
    expect(errorCode(res)).toBe('UNAUTHENTICATED');
  });
});

describe('browsing: images, categories, sorting, result count', () => {
  const LIST = `query($s: String, $c: String, $sort: ProductSort, $after: String) {
    products(first: 2, search: $s, category: $c, sort: $sort, after: $after) { totalCount edges { node { id title images category } } pageInfo { hasNextPage endCursor } } }`;
  const cat = `cat-${tag}`;

  async function product(title: string, price: number, images: string[] = []) {
    const res = await callSubgraph(
      server.url,
      CREATE,
      { input: { title: `${title} ${tag}`, description: 'browse', category: cat, images, skus: [{ title: 'one', price, currency: 'CNY' }] } },
      admin(),
    );
    expect(res.errors).toBeUndefined();
    return res.data!.createProduct.id as string;
  }

  it('puts products with images first, sorts by price both ways with keyset pages, and counts every match', async () => {
    const plainCheap = await product('Plain cheap', 100);
    const pictured = await product('Pictured', 500, ['/images/products/keyboard.svg']);
    const plainDear = await product('Plain dear', 900);

    const ids = async (sort: string) => {
      const first = await callSubgraph(server.url, LIST, { c: cat, sort });
      expect(first.errors).toBeUndefined();
      expect(first.data!.products.totalCount).toBe(3);
      const second = await callSubgraph(server.url, LIST, { c: cat, sort, after: first.data!.products.pageInfo.endCursor });
      expect(second.data!.products.pageInfo.hasNextPage).toBe(false);
      return [...first.data!.products.edges, ...second.data!.products.edges].map((e: any) => e.node.id);
    };
    expect(await ids('FEATURED')).toEqual([pictured, plainDear, plainCheap]);
    expect(await ids('NEWEST')).toEqual([plainDear, pictured, plainCheap]);
    expect(await ids('PRICE_LOW_HIGH')).toEqual([plainCheap, pictured, plainDear]);
    expect(await ids('PRICE_HIGH_LOW')).toEqual([plainDear, pictured, plainCheap]);

    const one = await callSubgraph(server.url, `query($id: ID!) { product(id: $id) { images category } }`, { id: pictured });
    expect(one.data!.product).toEqual({ images: ['/images/products/keyboard.svg'], category: cat });
    const categories = await callSubgraph(server.url, `{ categories { slug productCount } }`);
    expect(categories.data!.categories).toContainEqual({ slug: cat, productCount: 3 });
    const searched = await callSubgraph(server.url, LIST, { c: cat, s: 'pictured' });
    expect(searched.data!.products.totalCount).toBe(1);
  });

  it('refuses a bad category, image or cursor', async () => {
    expect(errorCode(await callSubgraph(server.url, LIST, { c: 'Not A Slug' }))).toBe('BAD_USER_INPUT');
    const bad = await callSubgraph(
      server.url,
      CREATE,
      { input: { title: 'x', description: '', images: ['javascript:alert(1)'], skus: [{ title: 'a', price: 1, currency: 'CNY' }] } },
      admin(),
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'images[0]' });
    expect(errorCode(await callSubgraph(server.url, LIST, { sort: 'PRICE_LOW_HIGH', after: 'garbage' }))).toBe('BAD_USER_INPUT');
  });
});

describe('changing a SKU', () => {
  const UPDATE = `mutation($i: UpdateSkuInput!) { updateSku(input: $i) { id title price { amount currency } flashSale flashSaleStartsAt revision } }`;

  async function newSku(flashSale = false) {
    const res = await callSubgraph(
      server.url,
      `mutation($input: CreateProductInput!) { createProduct(input: $input) { id skus { id revision } } }`,
      { input: { title: `Changing ${tag}`, description: '', skus: [{ title: 'one', price: 1000, currency: 'CNY', flashSale }] } },
      admin(),
    );
    expect(res.errors).toBeUndefined();
    const product = res.data!.createProduct;
    expect(product.skus[0].revision).toBe(1);
    return { productId: product.id as string, skuId: product.skus[0].id as string };
  }

  it('records catalog.sku-changed and catalog.product-changed with the product, and again with a bumped revision on every change', async () => {
    const { productId, skuId } = await newSku();
    expect(await recorded(skuId)).toEqual([
      {
        type: 'catalog.sku-changed',
        payload: { skuId, productId, title: 'one', flashSale: false, flashSaleStartsAt: null, price: { amount: 1000, currency: 'CNY' }, revision: 1 },
      },
    ]);
    expect(await recorded(productId)).toEqual([{ type: 'catalog.product-changed', payload: { productId, skuIds: [skuId] } }]);

    const changed = await callSubgraph(server.url, UPDATE, { i: { id: skuId, price: 1250, title: 'one, new' } }, admin());
    expect(changed.errors).toBeUndefined();
    expect(changed.data!.updateSku).toEqual({
      id: skuId,
      title: 'one, new',
      price: { amount: 1250, currency: 'CNY' },
      flashSale: false,
      flashSaleStartsAt: null,
      revision: 2,
    });
    const again = await callSubgraph(server.url, UPDATE, { i: { id: skuId, currency: 'USD' } }, admin());
    expect(again.data!.updateSku).toMatchObject({ price: { amount: 1250, currency: 'USD' }, revision: 3 });
    const skuEvents = await recorded(skuId);
    expect(skuEvents.map((e) => [e.payload.revision, e.payload.price, e.payload.title])).toEqual([
      [1, { amount: 1000, currency: 'CNY' }, 'one'],
      [2, { amount: 1250, currency: 'CNY' }, 'one, new'],
      [3, { amount: 1250, currency: 'USD' }, 'one, new'],
    ]);
    expect((await recorded(productId)).map((e) => e.type)).toEqual(['catalog.product-changed', 'catalog.product-changed', 'catalog.product-changed']);
    const read = await callSubgraph(server.url, `query($id: ID!) { sku(id: $id) { price { amount currency } revision } }`, { id: skuId });
    expect(read.data!.sku).toEqual({ price: { amount: 1250, currency: 'USD' }, revision: 3 });
  });

  it('moves or clears the start of a flash sale, and refuses one on a SKU that is not a flash-sale SKU', async () => {
    const flash = await newSku(true);
    const startsAt = '2031-11-11T00:00:00.000Z';
    const set = await callSubgraph(server.url, UPDATE, { i: { id: flash.skuId, flashSaleStartsAt: startsAt } }, admin());
    expect(set.data!.updateSku).toMatchObject({ flashSaleStartsAt: startsAt, revision: 2 });
    const cleared = await callSubgraph(server.url, UPDATE, { i: { id: flash.skuId, flashSaleStartsAt: null } }, admin());
    expect(cleared.data!.updateSku).toMatchObject({ flashSaleStartsAt: null, revision: 3 });
    const plain = await newSku(false);
    const refused = await callSubgraph(server.url, UPDATE, { i: { id: plain.skuId, flashSaleStartsAt: startsAt } }, admin());
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'flashSaleStartsAt' });
    expect(await recorded(plain.skuId)).toHaveLength(1); // the refusal changed nothing and recorded nothing
  });

  it('refuses a change to a customer, an anonymous caller, and bad or empty input, with the field at fault', async () => {
    const { skuId } = await newSku();
    expect(errorCode(await callSubgraph(server.url, UPDATE, { i: { id: skuId, price: 1 } }, user()))).toBe('FORBIDDEN');
    expect(errorCode(await callSubgraph(server.url, UPDATE, { i: { id: skuId, price: 1 } }))).toBe('UNAUTHENTICATED');
    const field = async (i: Record<string, unknown>) => {
      const res = await callSubgraph(server.url, UPDATE, { i }, admin());
      expect(errorCode(res)).toBe('BAD_USER_INPUT');
      return res.errors![0]!.extensions!.field;
    };
    expect(await field({ id: skuId, price: -1 })).toBe('price');
    expect(await field({ id: skuId, currency: 'yuan' })).toBe('currency');
    expect(await field({ id: skuId, title: '  ' })).toBe('title');
    expect(await field({ id: skuId })).toBe('input');
    expect(await field({ id: 'sku_00000000000000000000000000000000', price: 1 })).toBe('id');
    expect(await field({ id: 'not an id', price: 1 })).toBe('id');
    expect(await recorded(skuId)).toHaveLength(1);
  });
});
