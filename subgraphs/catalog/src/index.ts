// First: tracing (when configured) must start before the modules it instruments load.
import '@shop/kit/tracing-start';
import { openDatabase, startMessaging, startSubgraph, subgraphPort, runSubgraphMain, checkSecrets } from '@shop/kit';
import { loadDemoCatalog } from './domain/demo.js';
import { CATALOG_CACHE_HINTS, buildCatalogSchema } from './schema.js';
import { database } from './persistence.js';

export { buildCatalogSchema };

/** The Postgres schema this subgraph owns: its entities and migrations (persistence.ts). */
export { database };

/** Starts the catalog subgraph: migrate, optionally load demo data, the outbox relay of its events, serve. */
export async function start(port = subgraphPort('catalog')) {
  checkSecrets(['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN']);
  const orm = await openDatabase(database);
  if (process.env.DEMO_DATA) await loadDemoCatalog(orm.em.fork(), process.env.DEMO_DATA);
  // The catalog consumes nothing: its messaging is the relay of catalog.sku-changed and catalog.product-changed.
  const messaging = await startMessaging({ orm, service: 'catalog', schema: 'catalog' });
  return startSubgraph({
    name: 'catalog',
    port,
    schema: await buildCatalogSchema(),
    orm,
    cacheHints: CATALOG_CACHE_HINTS,
    readiness: messaging.readiness,
    onShutdown: () => messaging.stop(),
  });
}

runSubgraphMain(import.meta.url, 'catalog', database, start);
