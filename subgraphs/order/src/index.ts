// First: tracing (when configured) must start before the modules it instruments load.
import '@shop/kit/tracing-start';
import { openDatabase, startMessaging, startSubgraph, subgraphPort, runSubgraphMain, checkEncryptionKeys, checkSecrets } from '@shop/kit';
import { loadDemoCoupons } from './domain/demo.js';
import { flashOrderMoved, startFlashSale } from './domain/flash-sale.js';
import { startTimeoutJob } from './domain/lifecycle.js';
import { afterOrderMove } from './domain/order-state.js';
import { startPartitionJob } from './domain/partitions.js';
import { watchOperatorCases } from './domain/operator-cases.js';
import { startOrderConsumers } from './events/consumers.js';
import { buildOrderSchema } from './schema.js';
import { database } from './persistence.js';

export { buildOrderSchema };

/** The Postgres schema this subgraph owns: its entities and migrations (persistence.ts). */
export { database };

/** Starts the order subgraph: migrate, outbox relay, saga consumers, timeout job, partition maintenance, serve. */
export async function start(port = subgraphPort('order')) {
  checkSecrets(['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN', 'ADDRESS_ENCRYPTION_KEY']);
  checkEncryptionKeys();
  const orm = await openDatabase(database);
  watchOperatorCases(orm);
  if (process.env.DEMO_DATA) await loadDemoCoupons(orm.em.fork(), process.env.DEMO_DATA);
  const flash = startFlashSale();
  afterOrderMove(flashOrderMoved);
  const messaging = await startMessaging({ orm, service: 'order', schema: 'ordering', consumers: (connection) => startOrderConsumers(connection, orm) });
  const timeouts = startTimeoutJob(orm.em.fork());
  const partitions = startPartitionJob(orm.em.fork());
  return startSubgraph({
    name: 'order',
    port,
    schema: await buildOrderSchema(),
    orm,
    readiness: messaging.readiness,
    onShutdown: async () => {
      await timeouts.stop();
      await partitions.stop();
      await messaging.stop();
      flash.stop();
    },
  });
}

runSubgraphMain(import.meta.url, 'order', database, start);
