// First: tracing (when configured) must start before the modules it instruments load.
import '@shop/kit/tracing-start';
import { openDatabase, startMessaging, startSubgraph, subgraphPort, runSubgraphMain, checkSecrets } from '@shop/kit';
import { startInventoryConsumers } from './events/consumers.js';
import { registerInventoryGauges } from './domain/metrics.js';
import { loadDemoStock } from './domain/demo.js';
import { startFlashStockMirror } from './domain/flash-stock-mirror.js';
import { reservationRoutes } from './http/reservation-routes.js';
import { INVENTORY_CACHE_HINTS, buildInventorySchema } from './schema.js';
import { database } from './persistence.js';

export { buildInventorySchema };
export { reserve, confirm, release, expiredHolds } from './domain/reservations.js';
export { stockInvariantViolations, reservationInvariantViolations } from './domain/invariants.js';

/** The Postgres schema this subgraph owns: its entities and migrations (persistence.ts). */
export { database };

/** Starts the inventory subgraph: migrate, optionally load demo stock, relay and saga consumers, serve GraphQL and the internal reservation API. */
export async function start(port = subgraphPort('inventory')) {
  checkSecrets(['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN']);
  const orm = await openDatabase(database);
  if (process.env.DEMO_DATA) await loadDemoStock(orm.em.fork(), process.env.DEMO_DATA);
  registerInventoryGauges(orm.em);
  const messaging = await startMessaging({
    orm,
    service: 'inventory',
    schema: 'inventory',
    consumers: (connection) => startInventoryConsumers(connection, orm),
  });
  const mirror = startFlashStockMirror(orm.em.fork());
  return startSubgraph({
    name: 'inventory',
    port,
    schema: await buildInventorySchema(),
    cacheHints: INVENTORY_CACHE_HINTS,
    orm,
    routes: reservationRoutes(orm),
    readiness: messaging.readiness,
    onShutdown: async () => {
      await mirror.stop();
      await messaging.stop();
    },
  });
}

runSubgraphMain(import.meta.url, 'inventory', database, start);
