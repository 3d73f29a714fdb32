// Set-up of the subscription benchmark, all through the gateway: risk velocity rules off, one product with
// one SKU and enough stock, then M orders, each placed (previewed, then placed) by a buyer of its own.
import { randomBytes } from 'node:crypto';
import { gqlOrThrow } from './gateway-client.mjs';

const WAREHOUSE = 'bench-wh-a';
const PLACE_CONCURRENCY = 20;

/**
 * @param {{ url: string, adminToken: string, runId: string, orders: number, mintToken: (userId: string) => Promise<string>, onProgress?: (placed: number) => void }} plan
 * @returns {Promise<{ skuId: string, orders: { orderId: string, token: string, status: string }[] }>}
 */
export async function placeOrders(plan) {
  const { url, adminToken } = plan;
  // Every buyer comes from this machine's address: the per-IP, per-user and per-device order limits of
  // risk control would refuse the set-up, so they are switched off (as npm run bench:orders does).
  for (const id of ['ip-velocity', 'user-velocity', 'device-velocity']) {
    await gqlOrThrow(url, `mutation($id: ID!) { setRiskRule(id: $id, enabled: false) { id } }`, { id }, adminToken, 'setRiskRule');
  }
  const created = await gqlOrThrow(
    url,
    `mutation($input: CreateProductInput!) { createProduct(input: $input) { id skus { id } } }`,
    {
      input: {
        title: `Bench subscriptions ${new Date().toISOString()}`,
        description: 'created by npm run bench:subscriptions',
        skus: [{ title: 'subscribed', price: 1990, currency: 'CNY', flashSale: false }],
      },
    },
    adminToken,
    'createProduct',
  );
  const skuId = created.createProduct.skus[0].id;
  await gqlOrThrow(
    url,
    `mutation($s: ID!, $w: ID!, $n: Int!) { setStock(skuId: $s, warehouseId: $w, onHand: $n) { id } }`,
    { s: skuId, w: WAREHOUSE, n: plan.orders },
    adminToken,
    'setStock',
  );

  const orders = new Array(plan.orders);
  let next = 0;
  let placed = 0;
  const worker = async () => {
    for (let i = next++; i < plan.orders; i = next++) {
      const token = await plan.mintToken(`bench-${plan.runId}-u${i}`);
      const preview = await gqlOrThrow(
        url,
        `mutation($input: PreviewOrderInput!) { previewOrder(input: $input) { previewId } }`,
        { input: { items: [{ skuId, qty: 1 }] } },
        token,
        `previewOrder ${i}`,
      );
      const place = await gqlOrThrow(
        url,
        `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status } } }`,
        { input: { previewId: preview.previewOrder.previewId, clientReqId: `bench-sub-${i}-${randomBytes(6).toString('hex')}` } },
        token,
        `placeOrder ${i}`,
      );
      const { id, status } = place.placeOrder.order;
      if (status !== 'PENDING_PAYMENT' && status !== 'CREATED') throw new Error(`placeOrder ${i} answered status ${status}`);
      orders[i] = { orderId: id, token, status };
      placed += 1;
      plan.onProgress?.(placed);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PLACE_CONCURRENCY, plan.orders) }, worker));
  return { skuId, orders };
}
