import { onlyWhen, startConsumer, type connectBroker, type EventHandlers, type openDatabase } from '@shop/kit';
import { compensateRejectedPayment, executeRequestedRefund } from '../domain/refunds.js';
import { orderClosed } from '../domain/operator-cases.js';

type Connection = ReturnType<typeof connectBroker>;
type Orm = Awaited<ReturnType<typeof openDatabase>>;

/** What the payment subgraph does with the order subgraph's events. */
export const orderEventHandlers: EventHandlers = {
  'order.payment-rejected': compensateRejectedPayment,
  'order.refund-requested': executeRequestedRefund,
  // Only a cancel concerns a payment (orderClosed); the other status changes cost nothing.
  'order.status-changed': onlyWhen((e) => e.payload.to === 'CANCELED', orderClosed),
};

/** Queue "payment.order-events": compensations and after-sale refunds, one transaction per event with inbox dedup. */
export function startPaymentConsumers(connection: Connection, orm: Orm): ReturnType<typeof startConsumer> {
  return startConsumer({ connection, orm, service: 'payment', name: 'order-events', handlers: orderEventHandlers });
}
