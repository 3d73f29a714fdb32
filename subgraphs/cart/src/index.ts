import { logger, openDatabase, startSubgraph, stopOnSignals, subgraphPort, checkSecrets } from '@shop/kit';
import { entities } from './domain/entities.js';
import { migrations } from './migrations/index.js';
import { buildCartSchema } from './schema.js';

export { buildCartSchema };

/** Starts the cart subgraph: migrate, serve. */
export async function start(port = subgraphPort('cart')) {
  checkSecrets(['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN']);
  const orm = await openDatabase({ schema: 'cart', entities, migrations });
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
