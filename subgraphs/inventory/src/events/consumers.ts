import { emit, startConsumer } from '@shop/kit';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Connection } from 'rabbitmq-client';
import { allocationsOf, confirm, release, reserve } from '../domain/reservations.js';
import { recordReleaseLag, recordReservation } from '../domain/metrics.js';

/**
 * Inventory's side of the saga. Reserve, confirm and release are idempotent on the order id and
 * commit on their own; this consumer then records the outcome event in its inbox transaction.
 * A redelivery replays the recorded outcome and emits it again, which the order subgraph ignores.
 */
export function startInventoryConsumers(connection: Connection, orm: MikroORM) {
  return startConsumer({
    connection,
    orm,
    service: 'inventory',
    name: 'saga',
    handlers: {
      'order.created': async (tx, e) => {
        const outcome = await reserve(orm.em.fork(), { orderId: e.payload.orderId, lines: e.payload.items, expireAt: new Date(e.payload.expireAt) }).catch(
          (error: unknown) => {
            recordReservation(false);
            throw error;
          },
        );
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
      'order.status-changed': async (tx, e) => {
        const { orderId, to } = e.payload;
        if (to === 'PAID') {
          const result = await confirm(orm.em.fork(), orderId);
          if (!result.ok) throw new Error(`order ${orderId} is PAID but its reservation is ${result.state}`);
          await emit(tx, {
            type: 'inventory.stock-confirmed',
            aggregateId: orderId,
            correlationId: e.correlationId,
            payload: { orderId, allocations: await allocationsOf(tx, orderId) },
          });
        } else if (to === 'CANCELED' || (to === 'REFUNDED' && e.payload.restock === true)) {
          const result = await release(orm.em.fork(), orderId, { restock: to === 'REFUNDED' });
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
    },
  });
}
