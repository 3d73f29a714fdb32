import { emit, logger, onlyWhen, startConsumer, type EventHandlers } from '@shop/kit';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Connection } from 'rabbitmq-client';
import { allocationsOf, confirm, release, reserve } from '../domain/reservations.js';
import { recordReleaseLag, recordReservation } from '../domain/metrics.js';
import { returnStopped } from '../domain/returns.js';

/**
 * Inventory's side of the saga. Reserve, confirm and release are idempotent on the order id and
 * run inside the consumer's inbox transaction (as a savepoint), so a handler holds one connection
 * and never waits for a second one while its transaction is open. A redelivery replays the
 * recorded outcome and emits it again, which the order subgraph ignores.
 *
 * Correct in any arrival order of one order's events: a reserve after the release finds the
 * tombstone and holds nothing; a PAID that arrives after the refund released the stock (the
 * refund overtook it) confirms nothing and creates no shipments.
 */
export const inventorySagaHandlers: EventHandlers = {
  'order.created': async (tx, e) => {
    const input = { orderId: e.payload.orderId, lines: e.payload.items, expireAt: new Date(e.payload.expireAt) };
    const outcome = await reserve(tx, input, { bucketed: e.payload.flashSale === true }).catch((error: unknown) => {
      recordReservation(false);
      throw error;
    });
    recordReservation(true);
    if (outcome.state === 'HOLD') {
      await emit(tx, {
        type: 'inventory.stock-reserved',
        aggregateId: e.payload.orderId,
        correlationId: e.correlationId,
        payload: { orderId: e.payload.orderId, allocations: outcome.allocations },
      });
    } else {
      await emit(tx, {
        type: 'inventory.stock-rejected',
        aggregateId: e.payload.orderId,
        correlationId: e.correlationId,
        payload: { orderId: e.payload.orderId, shortages: outcome.shortages },
      });
    }
  },
  // Stock moves when an order is paid, canceled or refunded; its other status changes cost nothing.
  'order.status-changed': onlyWhen(
    (e) => e.payload.to === 'PAID' || e.payload.to === 'CANCELED' || e.payload.to === 'REFUNDED',
    async (tx, e) => {
      const { orderId, to } = e.payload;
      if (to === 'PAID') {
        const result = await confirm(tx, orderId);
        if (!result.ok && result.state === 'RELEASED') {
          logger.info({ orderId, eventId: e.eventId }, 'PAID arrived after the refund released the stock: nothing to confirm');
          return;
        }
        if (!result.ok) throw new Error(`order ${orderId} is PAID but its reservation is ${result.state}`);
        await emit(tx, {
          type: 'inventory.stock-confirmed',
          aggregateId: orderId,
          correlationId: e.correlationId,
          payload: { orderId, allocations: await allocationsOf(tx, orderId) },
        });
      } else if (to === 'REFUNDED' && e.payload.restockItems?.length) {
        const result = await returnStopped(tx, orderId, e.payload.restockItems);
        if (result.changed)
          await emit(tx, { type: 'inventory.stock-released', aggregateId: orderId, correlationId: e.correlationId, payload: { orderId, restocked: true } });
      } else if (to === 'CANCELED' || (to === 'REFUNDED' && e.payload.restock === true)) {
        const result = await release(tx, orderId, { restock: to === 'REFUNDED' });
        if (!result.ok) throw new Error(`could not release the stock of order ${orderId}: reservation is ${result.state}`);
        if (result.changed) recordReleaseLag(Math.max(0, (Date.now() - Date.parse(e.occurredAt)) / 1000));
        if (result.changed)
          await emit(tx, {
            type: 'inventory.stock-released',
            aggregateId: orderId,
            correlationId: e.correlationId,
            payload: { orderId, restocked: to === 'REFUNDED' },
          });
      }
    },
  ),
};

/** Saga events handled at once, and so at most sharing one transaction. */
const SAGA_CONCURRENCY = 16;

/**
 * The reservations (order.created) and stock moves of many orders are made in one transaction
 * (group commit), each with its inbox row; a failing one is retried alone (kit consumer.ts).
 */
export function startInventoryConsumers(connection: Connection, orm: MikroORM) {
  return startConsumer({
    connection,
    orm,
    service: 'inventory',
    name: 'saga',
    handlers: inventorySagaHandlers,
    shareTransactions: true,
    concurrency: SAGA_CONCURRENCY,
  });
}
