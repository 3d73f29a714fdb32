import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/kit/testing';
import { gql, tokenFor } from '../support/gateway-client.js';
import { database, placeOrder, seedProduct, systemStack } from '../support/system.js';

// Long enough for 30 payOrder calls on a loaded machine: no payment starts after the deadline.
const TTL_SECONDS = 10;
let stack: Awaited<ReturnType<typeof systemStack>>;
let db: ReturnType<typeof database>;
beforeAll(async () => {
  // No grace window: the race is at the deadline itself (the grace window has its own test in subgraphs/order).
  stack = await systemStack({ ORDER_PAYMENT_TTL_SECONDS: String(TTL_SECONDS), ORDER_PAYMENT_GRACE_SECONDS: '0', ORDER_TIMEOUT_SWEEP_MS: '50' });
  db = database(stack.databaseUrl);
}, 120_000);
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

describe('payment timeout racing a success callback', () => {
  it('ends every order either PAID with the payment kept, or CANCELED with the payment refunded', async () => {
    const ORDERS = 30;
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'race', price: 1000, stock: { 'wh-a': ORDERS } }]);
    const buyer = await tokenFor(`racer-${Date.now()}`);
    const orders = await Promise.all(Array.from({ length: ORDERS }, () => placeOrder(stack.gatewayUrl, buyer, [{ skuId: skuIds[0]!, qty: 1 }])));
    const sessions = await Promise.all(
      orders.map(async (o) => {
        const s = await gql(stack.gatewayUrl, `mutation($id: ID!) { payOrder(orderId: $id) { paymentId redirectUrl } }`, { id: o.id }, buyer);
        const expire = await db.one<{ expire_at: Date }>('SELECT expire_at FROM ordering.orders WHERE id = $1', [o.id]);
        return { orderId: o.id, ...s.data!.payOrder, expireAt: new Date(expire!.expire_at).getTime() };
      }),
    );
    // Each buyer presses Pay within ±400 ms of the order's payment deadline.
    await Promise.all(
      sessions.map(
        (s, i) =>
          new Promise<void>((resolve, reject) => {
            const offset = -400 + Math.round((800 * i) / (ORDERS - 1));
            setTimeout(
              () => {
                fetch(`${s.redirectUrl}/pay`, { method: 'POST', redirect: 'manual' }).then(() => resolve(), reject);
              },
              Math.max(0, s.expireAt + offset - Date.now()),
            );
          }),
      ),
    );
    const settled = await eventually(
      async () => {
        const rows = await db.all<{ order_id: string; order_status: string; payment_status: string }>(
          `SELECT o.id AS order_id, o.status AS order_status, p.status AS payment_status
             FROM ordering.orders o JOIN payment.payment p ON p.order_id = o.id WHERE o.id = ANY($1)`,
          [sessions.map((s) => s.orderId)],
        );
        const done = rows.filter(
          (r) => (r.order_status === 'PAID' && r.payment_status === 'SUCCEEDED') || (r.order_status === 'CANCELED' && r.payment_status === 'REFUNDED'),
        );
        return done.length === ORDERS ? rows : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 200 },
    );
    const paid = settled.filter((r) => r.order_status === 'PAID').length;
    const refunded = settled.filter((r) => r.order_status === 'CANCELED').length;
    expect(paid + refunded).toBe(ORDERS);
    // Stock agrees with money: sold units = paid orders, the rest is available again.
    await eventually(
      async () => {
        const s = await db.one<{ available: number; reserved: number; sold: number }>(
          'SELECT available, reserved, sold FROM inventory.stock WHERE sku_id = $1',
          [skuIds[0]],
        );
        return s && s.sold === paid && s.reserved === 0 && s.available === ORDERS - paid ? s : undefined;
      },
      { timeoutMs: 20_000 },
    );
    console.log(`race: ${paid} paid, ${refunded} canceled and refunded`);
  }, 120_000);
});
