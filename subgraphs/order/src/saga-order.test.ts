import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent, newId, openDatabase } from '@shop/kit';
import { deliverWithRetries, envelopeOf, permutations, sql } from '@shop/kit/testing';
import type { EventPayload, EventType } from '@shop/schema';
import { orderSagaHandlers, priceCopyHandlers } from './events/consumers.js';
import { database } from './persistence.js';
import { registry } from '@shop/kit';
import { watchOperatorCases } from './domain/operator-cases.js';

let orm: Awaited<ReturnType<typeof openDatabase>>;
beforeAll(async () => {
  orm = await openDatabase(database);
});
afterAll(async () => {
  await orm?.close();
});

const envelope = <T extends EventType>(type: T, orderId: string, payload: EventPayload<T>) => envelopeOf(type, orderId, payload, 'saga-order-test');

/** An order as placeOrder leaves it on the asynchronous path: CREATED, waiting for inventory. */
async function createdOrder(): Promise<string> {
  const id = newId('ord');
  await sql(orm.em.fork()).run(
    `INSERT INTO orders (id, user_id, status, currency, total, discount, shipping_fee, payable, preview_id, flash_sale, expire_at)
     VALUES (?, 'u_saga', 'CREATED', 'CNY', 1000, 0, 0, 1000, 'prv_x', true, now() + interval '15 minutes')`,
    [id],
  );
  return id;
}

const trail = async (orderId: string) =>
  (
    await sql(orm.em.fork()).all<{ to_status: string }>(`SELECT to_status FROM order_event WHERE order_id = ? AND event_type LIKE 'ORDER_%' ORDER BY version`, [
      orderId,
    ])
  ).map((r) => r.to_status);
const emitted = async (orderId: string, type: string) =>
  Number(
    (await sql(orm.em.fork()).one<{ n: string }>(`SELECT count(*) AS n FROM outbox WHERE type = ? AND body->'payload'->>'orderId' = ?`, [type, orderId]))!.n,
  );

describe('order saga in any arrival order', () => {
  it('stock reserved · paid · shipped · delivered: COMPLETED through every status, in all 24 orders, no payment refunded', async () => {
    for (const order of permutations([0, 1, 2, 3])) {
      const orderId = await createdOrder();
      const events = [
        envelope('inventory.stock-reserved', orderId, { orderId, allocations: [{ skuId: 'sku_x', warehouseId: 'wh', qty: 1 }] }),
        envelope('payment.succeeded', orderId, { orderId, paymentId: newId('pay'), paymentTxnId: 'txn_1', amount: { amount: 1000, currency: 'CNY' } }),
        envelope('fulfillment.order-shipped', orderId, { orderId }),
        envelope('fulfillment.order-delivered', orderId, { orderId }),
      ];
      await deliverWithRetries(
        order.map((i) => events[i]!),
        (e) => applyEvent(orm, 'order.saga', orderSagaHandlers, e),
      );
      expect({ order, trail: await trail(orderId) }).toEqual({ order, trail: ['PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED'] });
      expect(await emitted(orderId, 'order.payment-rejected')).toBe(0);
    }
  });
});

describe('operator cases', () => {
  it('counts orders whose latest refund failed at the provider, and orders waiting in REVIEW', async () => {
    watchOperatorCases(orm);
    const value = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;
    const failedBefore = await value('refund_failed_open');
    const orderId = await createdOrder();
    await sql(orm.em.fork()).run(
      `INSERT INTO refund_request (id, order_id, user_id, amount, currency, reason, status, restock, error) VALUES (?, ?, 'u_saga', 1000, 'CNY', 'test', 'FAILED', false, 'provider refused')`,
      [newId('rfd'), orderId],
    );
    expect(await value('refund_failed_open')).toBe(failedBefore + 1);
    const reviewBefore = await value('risk_review_backlog');
    await sql(orm.em.fork()).run(`UPDATE orders SET status = 'REVIEW' WHERE id = ?`, [orderId]);
    expect(await value('risk_review_backlog')).toBe(reviewBefore + 1);
    expect(await value('risk_review_oldest_seconds')).toBeGreaterThanOrEqual(0);
    await sql(orm.em.fork()).run(`UPDATE orders SET status = 'CANCELED', cancel_reason = 'RISK_REJECTED' WHERE id = ?`, [orderId]);
  });
});

describe('price copy', () => {
  it('keeps the newest revision of a SKU whatever the order, repeats and lateness of catalog.sku-changed', async () => {
    const skuId = newId('sku');
    const changed = (revision: number, price: number) =>
      envelope('catalog.sku-changed', skuId, {
        skuId,
        productId: 'prd_price_copy',
        title: `rev ${revision}`,
        flashSale: false,
        flashSaleStartsAt: null,
        price: { amount: price, currency: 'CNY' },
        revision,
      });
    const copy = async () =>
      sql(orm.em.fork()).one<{ price: number; title: string; revision: number }>(`SELECT price, title, revision FROM sku_price WHERE sku_id = ?`, [skuId]);
    const rev1 = changed(1, 1000);
    const rev2 = changed(2, 1200);
    const rev3 = changed(3, 900);
    const apply = (e: ReturnType<typeof changed>) => applyEvent(orm, 'order.prices', priceCopyHandlers, e);
    expect(await apply(rev2)).toBe('ok');
    expect(await copy()).toEqual({ price: 1200, title: 'rev 2', revision: 2 });
    expect(await apply(rev1)).toBe('ok'); // late: older than the copy, changes nothing
    expect(await copy()).toEqual({ price: 1200, title: 'rev 2', revision: 2 });
    expect(await apply(rev3)).toBe('ok');
    expect(await apply(rev3)).toBe('duplicate');
    expect(await apply(changed(3, 1))).toBe('ok'); // another event of a revision the copy has: no change
    expect(await apply(rev2)).toBe('duplicate');
    expect(await copy()).toEqual({ price: 900, title: 'rev 3', revision: 3 });
  });
});
