import { startConsumer, type connectBroker, type openDatabase } from '@shop/kit';
import { createShipments } from '../domain/shipments.js';

type Connection = ReturnType<typeof connectBroker>;
type Orm = Awaited<ReturnType<typeof openDatabase>>;

/** Queue "fulfillment.stock-events": shipments from confirmed (sold) stock, with inbox dedup. */
export function startFulfillmentConsumers(connection: Connection, orm: Orm): ReturnType<typeof startConsumer> {
  return startConsumer({ connection, orm, service: 'fulfillment', name: 'stock-events', handlers: { 'inventory.stock-confirmed': createShipments } });
}
