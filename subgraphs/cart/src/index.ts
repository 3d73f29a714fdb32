import { openDatabase, startSubgraph, subgraphPort, runSubgraphMain, checkSecrets } from '@shop/kit';
import { entities } from './domain/entities.js';
import { migrations } from './migrations/index.js';
import { buildCartSchema } from './schema.js';

export { buildCartSchema };

/** The Postgres schema this subgraph owns, its tables and its migrations. */
export const database = { schema: 'cart', entities, migrations };

/** Starts the cart subgraph: migrate, serve. */
export async function start(port = subgraphPort('cart')) {
  checkSecrets(['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN']);
  const orm = await openDatabase(database);
  return startSubgraph({ name: 'cart', port, schema: await buildCartSchema(), orm });
}

runSubgraphMain(import.meta.url, 'cart', database, start);
