import { logger, openDatabase, startSubgraph, stopOnSignals, subgraphPort } from '@shop/kit';
import { database } from './persistence.js';
import { buildCartSchema } from './schema.js';

export { buildCartSchema };

/** Starts the cart subgraph: migrate, serve. */
export async function start(port = subgraphPort('cart')) {
  const orm = await openDatabase(database);
  return startSubgraph({ name: 'cart', port, schema: await buildCartSchema(), orm });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.SERVICE_NAME ??= 'cart';
  start().then(
    (server) => stopOnSignals(server.stop),
    (error: unknown) => {
      logger.fatal({ err: error }, 'cart failed to start');
      process.exit(1);
    },
  );
}
