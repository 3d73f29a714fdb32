import { emit, logger, startConsumer, type EntityManager, type EventHandlers } from '@shop/kit';
import type { Connection } from 'rabbitmq-client';
import type { MikroORM } from '@mikro-orm/postgresql';
import { findOrder } from '../domain/orders.js';
import { moveOrder } from '../domain/order-state.js';
import { recordOrderEvent } from '../domain/order-events.js';
import { refundFailed, refundSucceeded } from '../domain/refunds.js';
import { stockHeld } from '../domain/risk-review.js';
import { factsOfEvent, storeSkuFacts } from '../domain/prices.js';

/** Statuses in which an order cannot have been paid yet: an event that needs payment waits (retries). */
const NOT_YET_PAYABLE = ['CREATED', 'REVIEW'] as const;
const NOT_YET_PAID = ['CREATED', 'REVIEW', 'PENDING_PAYMENT'] as const;

class NotYet extends Error {}
const notYet = (what: string, orderId: string, status: string) =>
  new NotYet(`${what} for order ${orderId} arrived while it is ${status}: it is retried until the order catches up`);

/**
 * The order subgraph's side of the saga: stock outcomes from inventory, payment outcomes, and
 * fulfillment progress. Each handler moves the order only from the statuses where the event makes
 * sense (`onlyFrom`), so redeliveries and late events change nothing; an event that overtook the
 * one it follows (a payment before the stock was reserved, a delivery before the payment) throws,
 * and the broker delivers it again later. Correct in any arrival order (tests/… saga-order test).
 */
export const orderSagaHandlers: EventHandlers = {
  'inventory.stock-reserved': async (tx, e) => {
    await stockHeld(tx, e.payload.orderId, e.correlationId, { allocations: e.payload.allocations }, { skuIds: e.payload.allocations.map((a) => a.skuId) });
  },
  'inventory.stock-rejected': async (tx, e) => {
    await moveOrder(tx, e.payload.orderId, 'CANCELED', {
      reason: 'OUT_OF_STOCK',
      correlationId: e.correlationId,
      onlyFrom: ['CREATED'],
      audit: { shortages: e.payload.shortages },
    });
  },
  'payment.succeeded': async (tx, e) => {
    const order = await findOrder(tx, e.payload.orderId);
    if (!order) throw new Error(`payment for unknown order ${e.payload.orderId}`);
    if ((NOT_YET_PAYABLE as readonly string[]).includes(order.status)) throw notYet('a payment', order.id, order.status);
    const matches = order.payable === e.payload.amount.amount && order.currency === e.payload.amount.currency;
    if (matches) {
      const moved = await moveOrder(tx, order.id, 'PAID', {
        correlationId: e.correlationId,
        onlyFrom: ['PENDING_PAYMENT'],
        audit: { paymentId: e.payload.paymentId, paymentTxnId: e.payload.paymentTxnId },
      });
      if (moved.changed || moved.order.status === 'PAID') return;
    }
    // Paid, but the order cannot take the money (canceled meanwhile, or another amount): refund it.
    await rejectPayment(tx, order.id, e.payload.paymentId, matches ? `order is ${order.status}` : 'amount does not match the order', e.correlationId);
  },
  'payment.refunded': async (tx, e) => {
    await refundSucceeded(tx, e.payload.refundId, e.payload.orderId, e.payload.paymentId, e.correlationId);
  },
  'payment.refund-failed': async (tx, e) => {
    await refundFailed(tx, e.payload.refundId, e.payload.orderId, e.payload.error, e.correlationId);
  },
  'fulfillment.order-shipped': async (tx, e) => {
    await waitForPayment(tx, e.payload.orderId, 'shipping');
    await moveOrder(tx, e.payload.orderId, 'SHIPPED', { correlationId: e.correlationId, onlyFrom: ['PAID'] });
  },
  'fulfillment.order-delivered': async (tx, e) => {
    await waitForPayment(tx, e.payload.orderId, 'delivery');
    // Delivered overtook shipped: the order passes through SHIPPED on its way.
    await moveOrder(tx, e.payload.orderId, 'SHIPPED', { correlationId: e.correlationId, onlyFrom: ['PAID'] });
    await moveOrder(tx, e.payload.orderId, 'COMPLETED', { correlationId: e.correlationId, onlyFrom: ['SHIPPED'] });
  },
};

async function waitForPayment(tx: EntityManager, orderId: string, what: string): Promise<void> {
  const order = await findOrder(tx, orderId);
  if (!order) throw new Error(`${what} for unknown order ${orderId}`);
  if ((NOT_YET_PAID as readonly string[]).includes(order.status)) throw notYet(what, orderId, order.status);
}

/**
 * The price copy (prices.ts): each catalog.sku-changed replaces the copy's facts of its SKU when its
 * revision is newer, so a repeated or late event changes nothing. A queue of its own: price changes
 * never wait behind the saga's retries, nor the saga behind them.
 */
export const priceCopyHandlers: EventHandlers = {
  'catalog.sku-changed': async (tx, e) => {
    await storeSkuFacts(tx, [factsOfEvent(e.payload)]);
  },
};

/** Saga events handled at once, and so at most sharing one transaction. */
const SAGA_CONCURRENCY = 16;

export async function startOrderConsumers(connection: Connection, orm: MikroORM) {
  return [
    // Stock and payment outcomes of many orders are recorded in one transaction (group commit), each
    // with its inbox row; a failing one is retried alone (kit consumer.ts, shareTransactions).
    await startConsumer({
      connection,
      orm,
      service: 'order',
      name: 'saga',
      handlers: orderSagaHandlers,
      shareTransactions: true,
      concurrency: SAGA_CONCURRENCY,
    }),
    await startConsumer({ connection, orm, service: 'order', name: 'prices', handlers: priceCopyHandlers }),
  ];
}

async function rejectPayment(tx: EntityManager, orderId: string, paymentId: string, reason: string, correlationId: string): Promise<void> {
  logger.warn({ orderId, paymentId, reason }, 'payment cannot be kept: asking the payment subgraph to refund it');
  await recordOrderEvent(tx, { orderId, type: 'PAYMENT_REJECTED', payload: { paymentId, reason } });
  await emit(tx, { type: 'order.payment-rejected', aggregateId: orderId, correlationId, payload: { orderId, paymentId, reason } });
}
