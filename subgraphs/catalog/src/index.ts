import { logger, openDatabase, startSubgraph, stopOnSignals, subgraphPort, checkSecrets } from '@shop/kit';
import { entities } from './domain/entities.js';
import { loadDemoCatalog } from './domain/demo.js';
import { migrations } from './migrations/index.js';
import { buildCatalogSchema } from './schema.js';

export { buildCatalogSchema };

/** Starts the catalog subgraph: migrate, optionally load demo data, serve. */
export async function start(port = subgraphPort('catalog')) {
  checkSecrets(['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN']);
  const orm = await openDatabase({ schema: 'catalog', entities, migrations });
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
