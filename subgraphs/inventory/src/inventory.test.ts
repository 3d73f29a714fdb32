import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newId, openDatabase } from '@shop/kit';
import { admin, callSubgraph, errorCode, user } from '@shop/kit/testing';
import { start as startCatalog } from '@shop/catalog';
import { start } from './index.js';
import { database } from './persistence.js';

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

const tag = Date.now().toString(36);
const SET = `mutation($s: ID!, $w: ID!, $n: Int!) { setStock(skuId: $s, warehouseId: $w, onHand: $n) { id available stock { warehouseId available reserved sold onHand } } }`;
const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Sku { id available } } }`;

async function createSkus(count: number): Promise<string[]> {
  const res = await callSubgraph(
    catalog.url,
    `mutation($input: CreateProductInput!) { createProduct(input: $input) { skus { id } } }`,
    {
      input: {
        title: `Stocked ${tag}`,
        description: 'inventory test',
        skus: Array.from({ length: count }, (_, i) => ({ title: `v${i}`, price: 100, currency: 'CNY' })),
      },
    },
    admin(),
  );
  expect(res.errors).toBeUndefined();
  return res.data!.createProduct.skus.map((s: { id: string }) => s.id);
}

describe('inventory subgraph: setStock and Sku.available', () => {
  it('sets on-hand per warehouse for an admin, creating warehouses, and sums available', async () => {
    const [sku] = await createSkus(1);
    const a = `wh-a-${tag}`;
    const b = `wh_B-${tag}`;
    const first = await callSubgraph(server.url, SET, { s: sku, w: a, n: 30 }, admin());
    expect(first.errors).toBeUndefined();
    expect(first.data!.setStock).toEqual({ id: sku, available: 30, stock: [{ warehouseId: a, available: 30, reserved: 0, sold: 0, onHand: 30 }] });
    await callSubgraph(server.url, SET, { s: sku, w: b, n: 20 }, admin());
    const lowered = await callSubgraph(server.url, SET, { s: sku, w: a, n: 25 }, admin());
    expect(lowered.data!.setStock.available).toBe(45);

    const res = await callSubgraph(server.url, ENTITIES, { r: [{ __typename: 'Sku', id: sku }] });
    expect(res.data!._entities).toEqual([{ id: sku, available: 45 }]);
    const warehouses = await callSubgraph(server.url, `{ warehouses { id } }`, {}, admin());
    expect(warehouses.data!.warehouses.map((w: { id: string }) => w.id)).toEqual(expect.arrayContaining([a, b]));
  });

  it('is admin only, and so is the per-warehouse breakdown', async () => {
    const [sku] = await createSkus(1);
    expect(errorCode(await callSubgraph(server.url, SET, { s: sku, w: 'wh', n: 1 }, user()))).toBe('FORBIDDEN');
    expect(errorCode(await callSubgraph(server.url, SET, { s: sku, w: 'wh', n: 1 }))).toBe('UNAUTHENTICATED');
    const q = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Sku { id stock { warehouseId } } } }`;
    expect(errorCode(await callSubgraph(server.url, q, { r: [{ __typename: 'Sku', id: sku }] }, user()))).toBe('FORBIDDEN');
    expect(errorCode(await callSubgraph(server.url, `{ warehouses { id } }`, {}, user()))).toBe('FORBIDDEN');
  });

  it('answers bad input with BAD_USER_INPUT and changes nothing', async () => {
    const [sku] = await createSkus(1);
    const cases: [string, string, number][] = [
      ['1 OR 1=1', 'wh', 1], // malformed SKU id
      [newId('sku'), 'wh', 1], // not in the catalog
      [sku!, 'bad warehouse!', 1],
      [sku!, 'x'.repeat(65), 1],
      [sku!, 'wh', -1],
      [sku!, 'wh', 1_000_001],
    ];
    for (const [s, w, n] of cases) {
      const res = await callSubgraph(server.url, SET, { s, w, n }, admin());
      expect(errorCode(res), `${s} ${w} ${n}`).toBe('BAD_USER_INPUT');
    }
    expect(errorCode(await callSubgraph(server.url, SET, { s: sku, w: 'wh', n: 1.5 }, admin()))).toBe('BAD_USER_INPUT');
    const res = await callSubgraph(server.url, ENTITIES, { r: [{ __typename: 'Sku', id: sku }] });
    expect(res.data!._entities).toEqual([{ id: sku, available: 0 }]);
  });

  it('gives 0 available for SKUs it has never stocked, and null for malformed references', async () => {
    const res = await callSubgraph(server.url, ENTITIES, {
      r: [
        { __typename: 'Sku', id: newId('sku') },
        { __typename: 'Sku', id: 'nonsense' },
      ],
    });
    expect(res.data!._entities.map((e: { available?: number } | null) => e?.available ?? null)).toEqual([0, null]);
  });
});

describe('inventory subgraph: batching', () => {
  it('resolves many Sku references with one stock query', async () => {
    const skus = await createSkus(12);
    for (const [i, s] of skus.entries()) await callSubgraph(server.url, SET, { s, w: `wh-batch-${tag}`, n: i + 1 }, admin());

    // Count the SQL of the running subgraph: ORM and Kysely queries alike reach PostgreSQL through
    // the query() of the pg Client class its pools use (this ORM's pool uses the same class).
    const orm = await openDatabase({ ...database, poolMax: 1 });
    const pool = (await orm.em.getConnection().getNativeClient()) as unknown as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
    const spy = vi.spyOn(pool.Client.prototype, 'query');
    try {
      const res = await callSubgraph(server.url, ENTITIES, { r: skus.map((id) => ({ __typename: 'Sku', id })) });
      // Only the reads of these SKUs: the flash-sale stock mirror (flash-stock-mirror.ts) reads the
      // stock of other SKUs on its own timer meanwhile.
      const stockQueries = spy.mock.calls.filter(([sql, params]) => {
        const query = typeof sql === 'string' ? { text: sql, values: params } : (sql as { text?: string; values?: unknown });
        const values = JSON.stringify(query.values ?? []);
        return /\bfrom "?stock"?(\s|$)/i.test(String(query.text)) && skus.some((id) => values.includes(id));
      });
      expect(res.errors).toBeUndefined();
      expect(res.data!._entities).toEqual(skus.map((id, i) => ({ id, available: i + 1 })));
      expect(stockQueries).toHaveLength(1);
    } finally {
      spy.mockRestore();
      await orm.close();
    }
  });
});

describe('operations console', () => {
  it('answers the inventory key metrics to admins only, oversell_count 0', async () => {
    const res = await callSubgraph(server.url, `{ inventoryMetrics { name value } }`, {}, admin());
    expect(res.errors).toBeUndefined();
    const byName = Object.fromEntries(res.data!.inventoryMetrics.map((m: { name: string; value: number }) => [m.name, m.value]));
    expect(Object.keys(byName)).toEqual(['reserve_success_rate', 'stock_release_lag_sec', 'oversell_count']);
    expect(byName.oversell_count).toBe(0);
    expect(errorCode(await callSubgraph(server.url, `{ inventoryMetrics { name } }`, {}, user()))).toBe('FORBIDDEN');
  });
});
