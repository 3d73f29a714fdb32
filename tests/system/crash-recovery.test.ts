import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/kit/testing';
import { gql, tokenFor } from '../support/gateway-client.js';
import { database, seedProduct, systemStack } from '../support/system.js';

let stack: Awaited<ReturnType<typeof systemStack>>;
let db: ReturnType<typeof database>;
beforeAll(async () => {
  stack = await systemStack({ RESERVE_TIMEOUT_MS: '1500' });
  db = database(stack.databaseUrl);
}, 120_000);
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

const previewAndPlace = async (token: string, skuId: string) => {
  const preview = await gql(
    stack.gatewayUrl,
    `mutation($s: ID!) { previewOrder(input: { items: [{ skuId: $s, qty: 1 }] }) { previewId } }`,
    { s: skuId },
    token,
  );
  return { previewId: preview.data!.previewOrder.previewId as string };
};
const place = (token: string, previewId: string, key: string) =>
  gql(
    stack.gatewayUrl,
    `mutation($p: ID!, $k: String!) { placeOrder(input: { previewId: $p, clientReqId: $k }) { replayed order { id status } } }`,
    { p: previewId, k: key },
    token,
  );

describe('crashes', () => {
  it('loses no order and oversells nothing when inventory is down during placement and the order process is killed', async () => {
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'crash', price: 900, stock: { 'wh-a': 6 } }]);
    const buyers = await Promise.all(Array.from({ length: 12 }, (_, i) => tokenFor(`crash-${Date.now()}-${i}`)));
    const previews = await Promise.all(buyers.map((t) => previewAndPlace(t, skuIds[0]!)));

    await stack.kill('inventory');
    // Inventory is gone: placements are accepted as CREATED and wait for the asynchronous path.
    const placed = await Promise.all(buyers.map((t, i) => place(t, previews[i]!.previewId, `crash-key-${i}`)));
    expect(placed.map((r) => r.errors?.[0]?.message ?? r.data!.placeOrder.order.status)).toEqual(Array(12).fill('CREATED'));
    const ids = placed.map((r) => r.data!.placeOrder.order.id as string);

    // The order process dies too (its relay and consumers with it), and comes back.
    await stack.restart('order');
    stack.launch('inventory');
    await eventually(async () => ((await fetch(stack.gatewayUrl.replace('/graphql', '/readyz'))).ok ? true : undefined), { timeoutMs: 60_000 });

    // A client retrying with the same key gets the same order, never a second one.
    // Which buyers get the six units is up to the asynchronous path: if buyer 0's order has already
    // been canceled for want of stock, the replay answers STOCK_NOT_ENOUGH, as the first answer would have.
    const retried = await place(buyers[0]!, previews[0]!.previewId, 'crash-key-0');
    if (retried.errors) {
      expect(retried.errors[0]!.extensions?.code).toBe('STOCK_NOT_ENOUGH');
      const first = await db.one<{ status: string; cancel_reason: string | null }>('SELECT status, cancel_reason FROM ordering.orders WHERE id = $1', [ids[0]]);
      expect(first).toEqual({ status: 'CANCELED', cancel_reason: 'OUT_OF_STOCK' });
    } else {
      expect(retried.data!.placeOrder).toMatchObject({ replayed: true, order: { id: ids[0] } });
    }
    const requests = await db.one<{ n: string }>('SELECT count(*) AS n FROM ordering.order_request WHERE client_req_id = $1', ['crash-key-0']);
    expect(Number(requests!.n)).toBe(1);

    const settled = await eventually(
      async () => {
        const rows = await db.all<{ status: string; cancel_reason: string | null }>('SELECT status, cancel_reason FROM ordering.orders WHERE id = ANY($1)', [
          ids,
        ]);
        return rows.length === 12 && rows.every((r) => r.status !== 'CREATED') ? rows : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(settled.filter((r) => r.status === 'PENDING_PAYMENT')).toHaveLength(6);
    expect(settled.filter((r) => r.status === 'CANCELED' && r.cancel_reason === 'OUT_OF_STOCK')).toHaveLength(6);
    const stock = await db.one<{ available: number; reserved: number; sold: number }>(
      'SELECT available, reserved, sold FROM inventory.stock WHERE sku_id = $1',
      [skuIds[0]],
    );
    expect(stock).toEqual({ available: 0, reserved: 6, sold: 0 });
    const orders = await db.one<{ n: string }>('SELECT count(*) AS n FROM ordering.orders WHERE id = ANY($1)', [ids]);
    expect(orders!.n).toBe('12');
  }, 180_000);
});
