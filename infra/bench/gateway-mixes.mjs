// The request mixes of `npm run bench:gateway`: the storefront's own operations (client/src/operations),
// sent with varied variables, and the catalog, carts and orders they read, created through the gateway.
import { readFileSync } from 'node:fs';
import { Kind, parse, print, visit } from 'graphql';
import { root } from '../scripts/processes.mjs';
import { gqlOrThrow } from './gateway-client.mjs';

/** Operation name -> its text with the fragments it uses, from the storefront's .graphql files. */
function storefrontOperations(files) {
  const definitions = files.flatMap((file) => parse(readFileSync(`${root}client/src/operations/${file}`, 'utf8')).definitions);
  const fragments = new Map(definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const used = (node, seen = new Set()) => {
    visit(node, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (seen.has(name)) return;
        seen.add(name);
        used(fragments.get(name), seen);
      },
    });
    return seen;
  };
  const operations = new Map();
  for (const d of definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION || !d.name) continue;
    operations.set(d.name.value, [d, ...[...used(d)].map((name) => fragments.get(name))].map(print).join('\n'));
  }
  return operations;
}

const OPS = storefrontOperations(['catalog.graphql', 'cart.graphql', 'orders.graphql', 'checkout.graphql']);
const op = (name) => {
  const text = OPS.get(name);
  if (!text) throw new Error(`client/src/operations has no operation ${name}`);
  return text;
};

const WORDS = ['tea', 'silk', 'jade', 'porcelain', 'bamboo', 'lantern', 'fan', 'ink', 'kite', 'scroll'];
const CATEGORIES = ['tea', 'home', 'art', 'crafts'];
const SORTS = ['FEATURED', 'NEWEST', 'PRICE_LOW_HIGH', 'PRICE_HIGH_LOW'];
const WAREHOUSES = ['bench-gw-a', 'bench-gw-b'];

/**
 * As an admin through the gateway: `products` products (two or three SKUs each, a category and two
 * searchable words), stock for every SKU; the cursors of the second page of each sort.
 */
export async function setUpCatalog(url, adminToken, { products }) {
  for (const id of ['ip-velocity', 'user-velocity', 'device-velocity']) {
    await gqlOrThrow(url, `mutation($id: ID!) { setRiskRule(id: $id, enabled: false) { id } }`, { id }, adminToken, 'setRiskRule');
  }
  const productIds = [];
  const skuIds = [];
  for (let i = 0; i < products; i++) {
    const words = `${WORDS[i % WORDS.length]} ${WORDS[(i * 3 + 1) % WORDS.length]}`;
    const created = await gqlOrThrow(
      url,
      `mutation($input: CreateProductInput!) { createProduct(input: $input) { id skus { id } } }`,
      {
        input: {
          title: `Bench ${words} ${i}`,
          description: `A ${words} made for npm run bench:gateway`,
          category: CATEGORIES[i % CATEGORIES.length],
          images: i % 2 ? [`/images/products/bench-${i}.svg`] : [],
          skus: Array.from({ length: 2 + (i % 2) }, (_, s) => ({
            title: `size ${s}`,
            price: 1000 + ((i * 7 + s * 13) % 50) * 100,
            currency: 'CNY',
            flashSale: false,
          })),
        },
      },
      adminToken,
      'createProduct',
    );
    productIds.push(created.createProduct.id);
    for (const sku of created.createProduct.skus) {
      skuIds.push(sku.id);
      for (const warehouseId of WAREHOUSES) {
        await gqlOrThrow(
          url,
          `mutation($s: ID!, $w: ID!, $n: Int!) { setStock(skuId: $s, warehouseId: $w, onHand: $n) { id } }`,
          { s: sku.id, w: warehouseId, n: 10_000 },
          adminToken,
          'setStock',
        );
      }
    }
  }
  // Page cursors of each listing the anonymous mix reads, so later pages are read too.
  const cursors = [];
  for (const sort of SORTS) {
    const page = await gqlOrThrow(url, op('Products'), { first: 12, sort }, undefined, 'Products');
    if (page.products.pageInfo.endCursor) cursors.push({ sort, after: page.products.pageInfo.endCursor });
  }
  return { productIds, skuIds, cursors };
}

/**
 * Per buyer: two cart lines and `ordersPerBuyer` placed orders; answers the order ids of each buyer.
 * Five buyers at a time: the set-up is not the measurement, and a burst of 50 checkouts on a busy
 * machine can outlast the subgraphs' 2 s internal timeouts.
 */
export async function setUpBuyers(url, tokens, skuIds, ordersPerBuyer) {
  const orderIds = [];
  const setUpOne = async (token, b) => {
    const mine = [];
    for (let line = 0; line < 2; line++) {
      await gqlOrThrow(url, op('AddToCart'), { skuId: skuIds[(b * 2 + line) % skuIds.length], qty: 1 + line }, token, 'AddToCart');
    }
    for (let o = 0; o < ordersPerBuyer; o++) {
      const items = [{ skuId: skuIds[(b + o * 5) % skuIds.length], qty: 1 }];
      const preview = await gqlOrThrow(
        url,
        `mutation($input: PreviewOrderInput!) { previewOrder(input: $input) { previewId } }`,
        { input: { items } },
        token,
        'previewOrder',
      );
      const placed = await gqlOrThrow(
        url,
        `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } } }`,
        { input: { previewId: preview.previewOrder.previewId, clientReqId: `bench-gw-${b}-${o}` } },
        token,
        'placeOrder',
      );
      mine.push(placed.placeOrder.order.id);
    }
    orderIds[b] = mine;
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(5, tokens.length) }, async () => {
      while (next < tokens.length) {
        const b = next++;
        await setUpOne(tokens[b], b);
      }
    }),
  );
  return orderIds;
}

const pick = (random, list) => list[Math.floor(random() * list.length)];

/** A small seeded generator (mulberry32), so every run of a mix sends the same sequence of requests. */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The anonymous catalog mix, as the storefront reads: listing pages (sorts, categories, later pages),
 * searches, product pages, SKU pages (with stock, `available`) and the categories.
 * @returns {(random: () => number) => { name: string, query: string, variables: object }}
 */
export function anonymousMix({ productIds, skuIds, cursors }) {
  return (random) => {
    const r = random();
    if (r < 0.2)
      return {
        name: 'Products',
        query: op('Products'),
        variables: { first: 12, sort: pick(random, SORTS), category: random() < 0.5 ? pick(random, CATEGORIES) : undefined },
      };
    if (r < 0.3 && cursors.length) {
      const { sort, after } = pick(random, cursors);
      return { name: 'Products', query: op('Products'), variables: { first: 12, sort, after } };
    }
    if (r < 0.45) return { name: 'Products', query: op('Products'), variables: { first: 12, search: pick(random, WORDS) } };
    if (r < 0.75) return { name: 'Product', query: op('Product'), variables: { id: pick(random, productIds) } };
    if (r < 0.95) return { name: 'Sku', query: op('Sku'), variables: { id: pick(random, skuIds) } };
    return { name: 'Categories', query: op('Categories'), variables: {} };
  };
}

/** The authenticated mix: a buyer's order page, order list and cart, with that buyer's token. */
export function authenticatedMix(tokens, orderIds) {
  return (random) => {
    const b = Math.floor(random() * tokens.length);
    const r = random();
    if (r < 0.4) return { name: 'Order', query: op('Order'), variables: { id: pick(random, orderIds[b]) }, token: tokens[b] };
    if (r < 0.7) return { name: 'Orders', query: op('Orders'), variables: { first: 10 }, token: tokens[b] };
    return { name: 'Cart', query: op('Cart'), variables: {}, token: tokens[b] };
  };
}
