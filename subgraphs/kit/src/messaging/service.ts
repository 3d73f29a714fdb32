import type { MikroORM } from '@mikro-orm/postgresql';
import type { Consumer } from 'rabbitmq-client';
import type { ReadinessCheck } from '../server.js';
import { CONSUMER_QUEUES, startDeadLetterGauge } from './dead-letters.js';
import { startOutboxRelay } from './relay.js';
import { startRetention } from './retention.js';
import { checkBroker, connectBroker } from './topology.js';
import { logger } from '../logger.js';

type Connection = ReturnType<typeof connectBroker>;

export interface Messaging {
  connection: Connection;
  readiness: Record<string, ReadinessCheck>;
  /** Stops consuming (in-flight handlers finish and ack), then the relay, the gauge and the connection. */
  stop(): Promise<void>;
}

/**
 * The messaging side of a subgraph: a broker connection, the outbox relay of its schema, its
 * consumers, the dlq_backlog gauge of its queues, the retention of its outbox, inbox and dead
 * letters (retention.ts), and a readiness check for the broker.
 */
export async function startMessaging(options: {
  orm: MikroORM;
  service: string;
  /** The subgraph's Postgres schema, whose outbox the relay publishes. */
  schema: string;
  consumers?: (connection: Connection) => Promise<Consumer | Consumer[]>;
}): Promise<Messaging> {
  const connection = connectBroker(options.service);
  const relay = startOutboxRelay({ orm: options.orm, connection, schema: options.schema });
  const started = options.consumers ? await options.consumers(connection) : [];
  const consumers = Array.isArray(started) ? started : [started];
  const ownQueues = CONSUMER_QUEUES.filter((q) => q.service === options.service);
  const gauge = startDeadLetterGauge(connection, ownQueues);
  // Published outbox rows, inbox rows past the deduplication horizon, and dead letters past it: pruned by one replica.
  const retention = startRetention({ orm: options.orm, schema: options.schema, deadLetters: { connection, queues: ownQueues } });
  return {
    connection,
    readiness: { rabbitmq: () => checkBroker(connection) },
    async stop() {
      logger.debug('stopping consumers');
      for (const consumer of consumers) await consumer.close();
      logger.debug('stopping the outbox relay');
      await relay.stop();
      await retention.stop();
      gauge.stop();
      logger.debug('closing the broker connection');
      await connection.close();
      logger.debug('messaging stopped');
    },
  };
}
