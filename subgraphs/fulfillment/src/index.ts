import { internalRoute, logger, parseId, openDatabase, startMessaging, startSubgraph, stopOnSignals, subgraphPort } from '@shop/kit';
import { entities } from './domain/entities.js';
import { stopForRefund } from './domain/refund-policy.js';
import { startFulfillmentConsumers } from './events/consumers.js';
import { migrations } from './migrations/index.js';
import { buildFulfillmentSchema } from './schema.js';

export { buildFulfillmentSchema };

/** Starts the fulfillment subgraph: migrate, serve GraphQL, relay the outbox, build shipments from confirmed stock. */
export async function start(port = subgraphPort('fulfillment')) {
  const orm = await openDatabase({ schema: 'fulfillment', entities, migrations });
  const messaging = await startMessaging({
    orm,
    service: 'fulfillment',
    schema: 'fulfillment',
    consumers: (connection) => startFulfillmentConsumers(connection, orm),
  });
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
    onShutdown: () => messaging.stop(),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.SERVICE_NAME ??= 'fulfillment';
  start().then(
    (server) => stopOnSignals(server.stop),
    (error: unknown) => {
      logger.fatal({ err: error }, 'fulfillment failed to start');
      process.exit(1);
    },
  );
}
