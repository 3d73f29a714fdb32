import { logger, openDatabase, startSubgraph, stopOnSignals, subgraphPort } from '@shop/kit';
import { loadDemoCatalog } from './domain/demo.js';
import { database } from './persistence.js';
import { buildCatalogSchema } from './schema.js';

export { buildCatalogSchema };

/** Starts the catalog subgraph: migrate, optionally load demo data, serve. */
export async function start(port = subgraphPort('catalog')) {
  const orm = await openDatabase(database);
  if (process.env.DEMO_DATA) await loadDemoCatalog(orm.em.fork(), process.env.DEMO_DATA);
  return startSubgraph({ name: 'catalog', port, schema: await buildCatalogSchema(), orm });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.SERVICE_NAME ??= 'catalog';
  start().then(
    (server) => stopOnSignals(server.stop),
    (error: unknown) => {
      logger.fatal({ err: error }, 'catalog failed to start');
      process.exit(1);
    },
  );
}
