// First: tracing (when configured) must start before the modules it instruments load.
import '@shop/kit/tracing-start';
import {
  deadLetterBroker,
  internalRoute,
  parseId,
  openDatabase,
  startMessaging,
  startKeyRetention,
  startPartitionJob,
  startSubgraph,
  subgraphPort,
  runSubgraphMain,
  checkSecrets,
} from '@shop/kit';
import { SHIPMENT_KEYS, SHIPMENT_PARTITIONS, watchShipmentPartitions } from './domain/partitions.js';
import { stopForRefund } from './domain/refund-policy.js';
import { startFulfillmentConsumers } from './events/consumers.js';
import { buildFulfillmentSchema } from './schema.js';
import { database } from './persistence.js';

export { buildFulfillmentSchema };

/** The Postgres schema this subgraph owns: its entities and migrations (persistence.ts). */
export { database };

/** Starts the fulfillment subgraph: migrate, serve GraphQL, relay the outbox, build shipments from confirmed stock, create partitions of shipments ahead and prune old key rows. */
export async function start(port = subgraphPort('fulfillment')) {
  checkSecrets(['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN']);
  const orm = await openDatabase(database);
  watchShipmentPartitions(orm);
  const messaging = await startMessaging({
    orm,
    service: 'fulfillment',
    schema: 'fulfillment',
    consumers: (connection) => startFulfillmentConsumers(connection, orm),
  });
  // The console's dead-letter operations (for every consumer) run on this subgraph's broker connection.
  deadLetterBroker.use(messaging.connection);
  const partitions = startPartitionJob(orm.em.fork(), SHIPMENT_PARTITIONS);
  const keyRetention = startKeyRetention({ orm, keys: SHIPMENT_KEYS });
  return startSubgraph({
    name: 'fulfillment',
    port,
    schema: await buildFulfillmentSchema(),
    orm,
    readiness: messaging.readiness,
    routes: (app) =>
      internalRoute(app, '/internal/v1/orders/:orderId/stop-for-refund', (req) =>
        stopForRefund(orm.em, parseId('ord', String(req.params.orderId), 'orderId'), 'order-service', String(req.headers['x-correlation-id'] ?? 'internal')),
      ),
    onShutdown: async () => {
      await partitions.stop();
      await keyRetention.stop();
      await messaging.stop();
    },
  });
}

runSubgraphMain(import.meta.url, 'fulfillment', database, start);
