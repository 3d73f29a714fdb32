import type { MikroORM, EntityManager } from '@mikro-orm/postgresql';
import { ConsumerStatus, type Connection, type Consumer } from 'rabbitmq-client';
import { Counter } from 'prom-client';
import { parseEvent, type EventEnvelope, type EventType } from '@shop/schema';
import { logger } from '../logger.js';
import { registry } from '../metrics.js';
import { deadLetterExchange, deadLetterQueue, eventsExchange, queueName, testQueueExpiry } from './topology.js';
import { kysely } from '../persistence/kysely.js';
import type { MessagingDb } from './outbox.js';

const handled = new Counter({
  name: 'events_consumed_total',
  help: 'Events handled by consumers, by outcome (ok, duplicate, retry, dead_letter)',
  labelNames: ['consumer', 'outcome'] as const,
  registers: [registry],
});

export type EventHandlers = { [T in EventType]?: (tx: EntityManager, event: EventEnvelope<T>) => Promise<void> };

export interface ConsumerOptions {
  connection: Connection;
  orm: MikroORM;
  /** The owning subgraph, e.g. "inventory". */
  service: string;
  /** The consumer's name within the service; queue = "<service>.<name>". */
  name: string;
  handlers: EventHandlers;
  concurrency?: number;
  /** Deliveries before the broker dead-letters the message (quorum queue x-delivery-limit). */
  maxDeliveries?: number;
  /** Base of the bounded exponential backoff between attempts. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** Queue arguments: a quorum queue with a delivery limit that dead-letters to "<queue>.dlq". */
export const queueArguments = (queue: string, maxDeliveries: number) => ({
  'x-queue-type': 'quorum' as const,
  'x-delivery-limit': maxDeliveries,
  'x-dead-letter-exchange': deadLetterExchange(),
  'x-dead-letter-routing-key': queue,
  ...testQueueExpiry(),
});

/** Declares a consumer's dead-letter queue and binds it; the DLQ holds messages for the replay tool. */
export async function declareDeadLetterQueue(connection: Connection, queue: string): Promise<void> {
  await connection.exchangeDeclare({ exchange: deadLetterExchange(), type: 'direct', durable: true });
  await connection.queueDeclare({ queue: deadLetterQueue(queue), durable: true, arguments: { 'x-queue-type': 'quorum' as const, ...testQueueExpiry() } });
  await connection.queueBind({ exchange: deadLetterExchange(), queue: deadLetterQueue(queue), routingKey: queue });
}

/**
 * Consumes events into one transaction per message: the inbox row (consumer, eventId) and the
 * handler's effects commit together, and only then is the message acked. A redelivered event finds
 * its inbox row and changes nothing. A handler that throws is retried with bounded backoff; after
 * maxDeliveries the broker moves the message to the dead-letter queue. A message that is not a
 * valid event goes to the dead-letter queue at once.
 */
export async function startConsumer(options: ConsumerOptions): Promise<Consumer> {
  const queue = queueName(options.service, options.name);
  const consumerId = `${options.service}.${options.name}`;
  const maxDeliveries = options.maxDeliveries ?? 5;
  const base = options.retryBaseMs ?? 200;
  const cap = options.retryMaxMs ?? 5000;
  await declareDeadLetterQueue(options.connection, queue);

  const consumer = options.connection.createConsumer(
    {
      queue,
      queueOptions: { durable: true, arguments: queueArguments(queue, maxDeliveries) },
      exchanges: [{ exchange: eventsExchange(), type: 'topic', durable: true }],
      queueBindings: Object.keys(options.handlers).map((routingKey) => ({ exchange: eventsExchange(), queue, routingKey })),
      concurrency: options.concurrency ?? 4,
      qos: { prefetchCount: (options.concurrency ?? 4) * 2 },
      requeue: true,
    },
    async (msg) => {
      let event: EventEnvelope;
      try {
        const body = Buffer.isBuffer(msg.body) ? JSON.parse(msg.body.toString('utf8')) : typeof msg.body === 'string' ? JSON.parse(msg.body) : msg.body;
        event = parseEvent(body);
      } catch (err) {
        logger.error({ err, consumer: consumerId, messageId: msg.messageId }, 'not a valid event: dead-lettered');
        handled.inc({ consumer: consumerId, outcome: 'dead_letter' });
        return ConsumerStatus.DROP;
      }
      const handler = options.handlers[event.type] as ((tx: EntityManager, e: EventEnvelope) => Promise<void>) | undefined;
      try {
        let duplicate = false;
        await options.orm.em.fork().transactional(async (tx) => {
          const res = await kysely<MessagingDb>(tx)
            .insertInto('inbox')
            .values({ consumer: consumerId, event_id: event.eventId, type: event.type })
            .onConflict((oc) => oc.doNothing())
            .executeTakeFirst();
          if (res.numInsertedOrUpdatedRows === 0n) {
            duplicate = true;
            return;
          }
          await handler?.(tx, event);
        });
        handled.inc({ consumer: consumerId, outcome: duplicate ? 'duplicate' : 'ok' });
        return ConsumerStatus.ACK;
      } catch (err) {
        const deliveries = Number(msg.headers?.['x-delivery-count'] ?? 0);
        const wait = Math.min(cap, base * 2 ** deliveries);
        logger.warn({ err, consumer: consumerId, eventId: event.eventId, type: event.type, deliveries, retryInMs: wait }, 'event handler failed; will retry');
        handled.inc({ consumer: consumerId, outcome: 'retry' });
        await new Promise((r) => setTimeout(r, wait));
        return ConsumerStatus.REQUEUE;
      }
    },
  );
  consumer.on('error', (err) => logger.warn({ err, consumer: consumerId }, 'consumer error'));
  // Resolve once the queue and its bindings exist: events published after this reach the queue.
  await new Promise<void>((resolve) => consumer.once('ready', resolve));
  return consumer;
}
