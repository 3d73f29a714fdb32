import { openDatabase, startSubgraph, subgraphPort, runSubgraphMain, checkSecrets } from '@shop/kit';
import { entities } from './domain/entities.js';
import { loadDemoCatalog } from './domain/demo.js';
import { migrations } from './migrations/index.js';
import { buildCatalogSchema } from './schema.js';

export { buildCatalogSchema };

/** The Postgres schema this subgraph owns, its tables and its migrations. */
export const database = { schema: 'catalog', entities, migrations };

/** Starts the catalog subgraph: migrate, optionally load demo data, serve. */
export async function start(port = subgraphPort('catalog')) {
  checkSecrets(['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN']);
  const orm = await openDatabase(database);
  if (process.env.DEMO_DATA) await loadDemoCatalog(orm.em.fork(), process.env.DEMO_DATA);
  return startSubgraph({ name: 'catalog', port, schema: await buildCatalogSchema(), orm });
}

runSubgraphMain(import.meta.url, 'catalog', database, start);
