// First: tracing (when configured) must start before the modules it instruments load.
import '@shop/kit/tracing-start';
import {
  envInt,
  openDatabase,
  startKeyRetention,
  startMessaging,
  startPartitionJob,
  startSubgraph,
  subgraphPort,
  runSubgraphMain,
  checkSecrets,
} from '@shop/kit';
import { PAYMENT_KEYS, PAYMENT_PARTITIONS } from './domain/partitions.js';
import { scheduleReconciliation } from './domain/reconciliation-schedule.js';
import { watchOperatorCases } from './domain/operator-cases.js';
import { startPaymentConsumers } from './events/consumers.js';
import { callbackRoute } from './http/callback-route.js';
import { buildPaymentSchema } from './schema.js';
import { database } from './persistence.js';

export { buildPaymentSchema };
export { reconcile } from './domain/reconciliation.js';

/** The Postgres schema this subgraph owns: its entities and migrations (persistence.ts). */
export { database };

/**
 * Starts the payment subgraph: migrate, serve GraphQL and the provider callback, relay the outbox,
 * consume the order subgraph's compensations and refunds, reconcile with the provider on a schedule
 * (RECONCILE_INTERVAL_MS, default 5 min, 0 = off; over the trailing RECONCILE_WINDOW_MS, default 24 h),
 * create the partitions of payments ahead and prune old key rows (domain/partitions.ts).
 */
export async function start(port = subgraphPort('payment')) {
  checkSecrets(['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN', 'PAYMENT_WEBHOOK_SECRET']);
  const orm = await openDatabase(database);
  watchOperatorCases(orm);
  const messaging = await startMessaging({ orm, service: 'payment', schema: 'payment', consumers: (connection) => startPaymentConsumers(connection, orm) });
  const reconciler = scheduleReconciliation(orm.em.fork(), envInt('RECONCILE_INTERVAL_MS', 300_000), envInt('RECONCILE_WINDOW_MS', 86_400_000));
  const partitions = startPartitionJob(orm.em.fork(), PAYMENT_PARTITIONS);
  const keyRetention = startKeyRetention({ orm, keys: PAYMENT_KEYS });
  return startSubgraph({
    name: 'payment',
    port,
    schema: await buildPaymentSchema(),
    orm,
    readiness: messaging.readiness,
    routes: callbackRoute(orm.em.fork()),
    onShutdown: async () => {
      await reconciler.stop();
      await partitions.stop();
      await keyRetention.stop();
      await messaging.stop();
    },
  });
}

runSubgraphMain(import.meta.url, 'payment', database, start);
