import { emit, logger, startConsumer, type EntityManager } from '@shop/kit';
import type { Connection } from 'rabbitmq-client';
import type { MikroORM } from '@mikro-orm/postgresql';
import { findOrder } from '../domain/orders.js';
import { moveOrder } from '../domain/order-state.js';
import { recordOrderEvent } from '../domain/order-events.js';
import { refundFailed, refundSucceeded } from '../domain/refunds.js';

/**
 * The order subgraph's side of the saga: stock outcomes from inventory, payment outcomes, and
 * fulfillment progress. Each handler moves the order only from the statuses where the event makes
 * sense (`onlyFrom`), so redeliveries and late events change nothing.
 */
export function startOrderConsumers(connection: Connection, orm: MikroORM) {
  return startConsumer({
    connection,
    orm,
    service: 'order',
    name: 'saga',
    handlers: {
      'inventory.stock-reserved': async (tx, e) => {
        await moveOrder(tx, e.payload.orderId, 'PENDING_PAYMENT', {
          correlationId: e.correlationId,
          onlyFrom: ['CREATED'],
          audit: { allocations: e.payload.allocations },
        });
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
        await moveOrder(tx, e.payload.orderId, 'SHIPPED', { correlationId: e.correlationId, onlyFrom: ['PAID'] });
      },
      'fulfillment.order-delivered': async (tx, e) => {
        await moveOrder(tx, e.payload.orderId, 'COMPLETED', { correlationId: e.correlationId, onlyFrom: ['SHIPPED'] });
      },
    },
  });
}

async function rejectPayment(tx: EntityManager, orderId: string, paymentId: string, reason: string, correlationId: string): Promise<void> {
  logger.warn({ orderId, paymentId, reason }, 'payment cannot be kept: asking the payment subgraph to refund it');
  await recordOrderEvent(tx, { orderId, type: 'PAYMENT_REJECTED', payload: { paymentId, reason } });
  await emit(tx, { type: 'order.payment-rejected', aggregateId: orderId, correlationId, payload: { orderId, paymentId, reason } });
}
