// First: tracing (when configured) must start before the modules it instruments load.
import '@shop/kit/tracing-start';
import { openDatabase, startSubgraph, subgraphPort, runSubgraphMain, checkSecrets } from '@shop/kit';
import { buildCartSchema } from './schema.js';
import { database } from './persistence.js';

export { buildCartSchema };

/** The Postgres schema this subgraph owns: its entities and migrations (persistence.ts). */
export { database };

/** Starts the cart subgraph: migrate, serve. */
export async function start(port = subgraphPort('cart')) {
  checkSecrets(['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN']);
  const orm = await openDatabase(database);
  return startSubgraph({ name: 'cart', port, schema: await buildCartSchema(), orm });
}

runSubgraphMain(import.meta.url, 'cart', database, start);
