import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent, newId, openDatabase } from '@shop/kit';
import { deliverWithRetries, envelopeOf, permutations, sql } from '@shop/kit/testing';
import type { EventEnvelope, EventPayload, EventType } from '@shop/schema';
import { setOnHand } from './domain/stock.js';
import { inventorySagaHandlers } from './events/consumers.js';
import { database } from './persistence.js';

let orm: Awaited<ReturnType<typeof openDatabase>>;
beforeAll(async () => {
  orm = await openDatabase(database);
});
afterAll(async () => {
  await orm?.close();
});

const envelope = <T extends EventType>(type: T, orderId: string, payload: EventPayload<T>) => envelopeOf(type, orderId, payload, 'saga-order-test');
const status = (orderId: string, from: string, to: string, extra: Record<string, unknown> = {}) =>
  envelope('order.status-changed', orderId, {
    orderId,
    userId: 'u1',
    from,
    to,
    reason: to === 'CANCELED' ? 'USER_CANCELED' : null,
    version: 2,
    ...extra,
  } as never);

const stockOf = async (skuId: string) =>
  (await sql(orm.em.fork()).one<{ available: number; reserved: number; sold: number }>(
    'SELECT available, reserved, sold FROM stock WHERE sku_id = ? AND warehouse_id = ?',
    [skuId, 'wh-saga'],
  ))!;

/** Every arrival order of one order's events, each through the consumer's inbox and handlers, with broker-like retries. */
async function everyOrder(
  name: string,
  events: (orderId: string, skuId: string) => EventEnvelope[],
  expected: { available: number; reserved: number; sold: number },
) {
  for (const order of permutations(events('x', 'x').map((_, i) => i))) {
    const skuId = newId('sku');
    await setOnHand(orm.em.fork(), skuId, 'wh-saga', 5);
    const orderId = newId('ord');
    const list = events(orderId, skuId);
    await deliverWithRetries(
      order.map((i) => list[i]!),
      (e) => applyEvent(orm, 'inventory.saga', inventorySagaHandlers, e),
    );
    // A redelivery of every event changes nothing.
    for (const e of list) expect(await applyEvent(orm, 'inventory.saga', inventorySagaHandlers, e)).toBe('duplicate');
    expect({
      name,
      order: order.map((i) => (list[i]!.type === 'order.status-changed' ? (list[i]!.payload as { to: string }).to : list[i]!.type)),
      stock: await stockOf(skuId),
    }).toEqual({
      name,
      order: expect.anything(),
      stock: expected,
    });
  }
}

describe('inventory saga in any arrival order', () => {
  const created = (orderId: string, skuId: string) =>
    envelope('order.created', orderId, {
      orderId,
      userId: 'u1',
      items: [{ skuId, qty: 2 }],
      payable: { amount: 200, currency: 'CNY' },
      expireAt: new Date(Date.now() + 600_000).toISOString(),
      flashSale: true,
    });

  it('created · PAID: two sold, in both orders', async () => {
    await everyOrder('paid', (o, s) => [created(o, s), status(o, 'PENDING_PAYMENT', 'PAID')], { available: 3, reserved: 0, sold: 2 });
  });

  it('created · CANCELED: all stock back, in both orders (a late reserve holds nothing)', async () => {
    await everyOrder('canceled', (o, s) => [created(o, s), status(o, 'PENDING_PAYMENT', 'CANCELED')], { available: 5, reserved: 0, sold: 0 });
  });

  it('created · PAID · REFUNDED (nothing shipped): all stock back in all six orders', async () => {
    await everyOrder('refunded', (o, s) => [created(o, s), status(o, 'PENDING_PAYMENT', 'PAID'), status(o, 'PAID', 'REFUNDED', { restock: true })], {
      available: 5,
      reserved: 0,
      sold: 0,
    });
  });

  it('created · PAID · REFUNDED of a partly shipped order: the stopped parcel returns, the shipped unit stays sold, in all six orders', async () => {
    await everyOrder(
      'partly shipped',
      (o, s) => [
        created(o, s),
        status(o, 'PENDING_PAYMENT', 'PAID'),
        status(o, 'PAID', 'REFUNDED', { restock: false, restockItems: [{ skuId: s, warehouseId: 'wh-saga', qty: 1 }] }),
      ],
      { available: 4, reserved: 0, sold: 1 },
    );
  });
});
