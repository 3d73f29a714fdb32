import { openDatabase, startMessaging, startSubgraph, subgraphPort, runSubgraphMain, checkEncryptionKeys, checkSecrets } from '@shop/kit';
import { loadDemoCoupons } from './domain/demo.js';
import { FlashSaleGate } from './domain/flash-sale-gate.js';
import { startTimeoutJob } from './domain/lifecycle.js';
import { startPartitionJob } from './domain/partitions.js';
import { watchOperatorCases } from './domain/operator-cases.js';
import { startOrderConsumers } from './events/consumers.js';
import { runtime } from './graphql/resolvers.js';
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
  runtime.gate = new FlashSaleGate();
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
    },
  });
}

runSubgraphMain(import.meta.url, 'order', database, start);
