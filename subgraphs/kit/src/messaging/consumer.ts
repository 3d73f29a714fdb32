import type { MikroORM, EntityManager } from '@mikro-orm/postgresql';
import { ConsumerStatus, type Connection, type Consumer } from 'rabbitmq-client';
import { Counter } from 'prom-client';
import { parseEvent, type EventEnvelope, type EventType } from '@shop/schema';
import { logger } from '../logger.js';
import { registry } from '../metrics.js';
import { inConsumerSpan } from '../tracing.js';
import { deadLetterExchange, deadLetterQueue, eventsExchange, queueName, testQueueExpiry } from './topology.js';
import { kysely } from '../persistence/kysely.js';
import { groupCommit } from '../persistence/group-commit.js';
import type { MessagingDb } from './outbox.js';
import { declareDelayQueues, decideRetry, defaultRetryPolicy, sendToDeadLetters, sendToRetry, type RetryPolicy } from './retry.js';

const handled = new Counter({
  name: 'events_consumed_total',
  help: 'Events handled by consumers, by outcome (ok, duplicate, ignored, retry, dead_letter)',
  labelNames: ['consumer', 'outcome'] as const,
  registers: [registry],
});

export type EventHandler<T extends EventType> = ((tx: EntityManager, event: EventEnvelope<T>) => Promise<void>) & {
  /** Whether the handler does anything with this event (onlyWhen); an event it ignores costs no transaction. */
  relevant?: (event: EventEnvelope<T>) => boolean;
};
export type EventHandlers = { [T in EventType]?: EventHandler<T> };

/**
 * A handler that acts only on the events `relevant` accepts: the others are acked without a
 * transaction or an inbox row, since a handler that changes nothing needs no deduplication (an
 * order's status changes reach every consumer bound to them, and most act on a few statuses).
 */
export function onlyWhen<T extends EventType>(
  relevant: (event: EventEnvelope<T>) => boolean,
  handler: (tx: EntityManager, event: EventEnvelope<T>) => Promise<void>,
): EventHandler<T> {
  return Object.assign((tx: EntityManager, event: EventEnvelope<T>) => handler(tx, event), { relevant });
}

export interface ConsumerOptions {
  connection: Connection;
  orm: MikroORM;
  /** The owning subgraph, e.g. "inventory". */
  service: string;
  /** The consumer's name within the service; queue = "<service>.<name>". */
  name: string;
  handlers: EventHandlers;
  concurrency?: number;
  /**
   * Deliveries of one copy before the broker dead-letters it (quorum queue x-delivery-limit): a
   * safety net for a message that crashes its process again and again. Handler failures do not
   * count here: they go through the delay queues (retry.ts).
   */
  maxDeliveries?: number;
  /** Delays and horizon of the broker-held retries; defaults from defaultRetryPolicy(). */
  retry?: Partial<RetryPolicy>;
  /**
   * Messages handled at once share one transaction (group commit, persistence/group-commit.ts):
   * each keeps its inbox row and is acked only after that transaction committed; when one fails,
   * the others are applied again each in a transaction of its own, and only the failing one goes to
   * the retries. For handlers that only write to the database (they may run twice).
   */
  shareTransactions?: boolean;
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
 * One event through a consumer's inbox and handler, in one transaction: the inbox row
 * (consumer, eventId) and the handler's effects commit together; a known event changes nothing.
 * Throws what the handler throws (the transaction is rolled back). Tests use it to deliver a saga's
 * events in chosen orders through the same path as the broker.
 */
export function applyEvent(orm: MikroORM, consumerId: string, handlers: EventHandlers, event: EventEnvelope): Promise<'ok' | 'duplicate' | 'ignored'> {
  return applyEventIn((work) => orm.em.fork().transactional(work), consumerId, handlers, event);
}

/** applyEvent in the transaction `transact` gives (one of its own, or one shared by a group commit). */
async function applyEventIn(
  transact: (work: (tx: EntityManager) => Promise<boolean>) => Promise<boolean>,
  consumerId: string,
  handlers: EventHandlers,
  event: EventEnvelope,
): Promise<'ok' | 'duplicate' | 'ignored'> {
  const handler = handlers[event.type] as EventHandler<EventType> | undefined;
  if (handler?.relevant && !handler.relevant(event)) return 'ignored';
  const fresh = await transact(async (tx) => {
    const res = await kysely<MessagingDb>(tx)
      .insertInto('inbox')
      .values({ consumer: consumerId, event_id: event.eventId, type: event.type })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (res.numInsertedOrUpdatedRows === 0n) return false;
    await handler?.(tx, event);
    return true;
  });
  return fresh ? 'ok' : 'duplicate';
}

/**
 * Consumes events into one transaction per message: the inbox row (consumer, eventId) and the
 * handler's effects commit together, and only then is the message acked. A redelivered event finds
 * its inbox row and changes nothing. A handler that throws is retried by the broker with growing
 * delays (retry.ts: a confirmed copy goes to a delay queue, then the original is acked) until it
 * has failed for the horizon; then, like a message that is not a valid event, it goes to the
 * dead-letter queue with the reason.
 */
export async function startConsumer(options: ConsumerOptions): Promise<Consumer> {
  const queue = queueName(options.service, options.name);
  const consumerId = `${options.service}.${options.name}`;
  const maxDeliveries = options.maxDeliveries ?? 5;
  const policy: RetryPolicy = { ...defaultRetryPolicy(), ...options.retry };
  await declareDeadLetterQueue(options.connection, queue);
  await declareDelayQueues(options.connection, queue, policy);
  const publisher = options.connection.createPublisher({ confirm: true, maxAttempts: 2 });
  const group = options.shareTransactions ? groupCommit({ name: consumerId, fork: () => options.orm.em.fork() }) : undefined;
  const transact = group ? group.run.bind(group) : (work: (tx: EntityManager) => Promise<boolean>) => options.orm.em.fork().transactional(work);

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
        try {
          await sendToDeadLetters(publisher, queue, msg, 'invalid', err instanceof Error ? err.message : String(err));
          return ConsumerStatus.ACK;
        } catch {
          return ConsumerStatus.DROP; // the queue's own dead-lettering (reason "rejected")
        }
      }
      try {
        // With tracing on, the handler's spans (its queries) continue the trace of the event's emitter, linked to the relay's publish.
        const outcome = await inConsumerSpan(
          `consume ${event.type}`,
          event.trace,
          msg.headers,
          { 'messaging.destination.name': queue, 'messaging.message.id': event.eventId },
          () => applyEventIn(transact, consumerId, options.handlers, event),
        );
        handled.inc({ consumer: consumerId, outcome });
        return ConsumerStatus.ACK;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        const decision = decideRetry(msg, policy);
        const context = { err, consumer: consumerId, eventId: event.eventId, type: event.type };
        try {
          if (decision.kind === 'retry') {
            await sendToRetry(publisher, queue, msg, decision, error);
            logger.warn({ ...context, attempt: decision.attempt, retryInMs: decision.delayMs }, 'event handler failed; the broker retries it later');
            handled.inc({ consumer: consumerId, outcome: 'retry' });
          } else {
            await sendToDeadLetters(publisher, queue, msg, decision.reason, error);
            logger.error({ ...context, reason: decision.reason, failingSince: new Date(decision.firstFailureAt).toISOString() }, 'event dead-lettered');
            handled.inc({ consumer: consumerId, outcome: 'dead_letter' });
          }
          return ConsumerStatus.ACK;
        } catch (publishError) {
          // The copy was not confirmed: keep the original (redelivered by the broker).
          logger.warn({ ...context, publishError }, 'event handler failed and its retry could not be scheduled; requeued');
          return ConsumerStatus.REQUEUE;
        }
      }
    },
  );
  consumer.on('error', (err) => logger.warn({ err, consumer: consumerId }, 'consumer error'));
  const closeConsumer = consumer.close.bind(consumer);
  consumer.close = async () => {
    await closeConsumer();
    await publisher.close();
  };
  // Resolve once the queue and its bindings exist: events published after this reach the queue.
  await new Promise<void>((resolve) => consumer.once('ready', resolve));
  return consumer;
}
