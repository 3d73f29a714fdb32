import { admin, callSubgraph } from '@shop/kit/testing';

/** Creates a product with one SKU in the catalog and puts stock on it in inventory, as an admin would. */
export async function createStockedSku(
  urls: { catalog: string; inventory: string },
  options: { price?: number; stock?: Record<string, number>; flashSale?: boolean; title?: string } = {},
): Promise<string> {
  const created = await callSubgraph(
    urls.catalog,
    `mutation($input: CreateProductInput!) { createProduct(input: $input) { skus { id } } }`,
    {
      input: {
        title: options.title ?? `Test product ${Date.now()}`,
        description: 'fixture',
        skus: [{ title: 'one', price: options.price ?? 10000, currency: 'CNY', flashSale: options.flashSale ?? false }],
      },
    },
    admin(),
  );
  if (created.errors) throw new Error(`createProduct failed: ${JSON.stringify(created.errors)}`);
  const skuId: string = created.data!.createProduct.skus[0].id;
  for (const [warehouseId, onHand] of Object.entries(options.stock ?? { 'wh-test-1': 10 })) {
    const set = await callSubgraph(
      urls.inventory,
      `mutation($s: ID!, $w: ID!, $n: Int!) { setStock(skuId: $s, warehouseId: $w, onHand: $n) { id } }`,
      { s: skuId, w: warehouseId, n: onHand },
      admin(),
    );
    if (set.errors) throw new Error(`setStock failed: ${JSON.stringify(set.errors)}`);
  }
  return skuId;
}
