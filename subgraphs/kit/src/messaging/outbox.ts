import type { EntityManager } from '@mikro-orm/postgresql';
import { EVENT_VERSION, type EventEnvelope, type EventPayload, type EventType } from '@shop/schema';
import { newId } from '../ids.js';
import { traceContextHeaders } from '../tracing.js';
import { kysely, type KyselyDb } from '../persistence/kysely.js';
import type { messagingEntities } from '../persistence/messaging-entities.js';

/** The outbox and inbox tables as Kysely sees them. */
export type MessagingDb = KyselyDb<typeof messagingEntities>;

export interface EmitOptions<T extends EventType> {
  type: T;
  aggregateId: string;
  correlationId: string;
  payload: EventPayload<T>;
}

/** The options of any one event type (a union, so type and payload stay paired). */
export type AnyEmitOptions = { [T in EventType]: EmitOptions<T> }[EventType];

/**
 * Records a domain event in the outbox of the current transaction. It is published by the relay
 * only if this transaction commits, and never lost if the process dies right after the commit.
 * Call it with the transactional EntityManager (`em.transactional(async (tx) => emit(tx, ...))`).
 */
export async function emit<T extends EventType>(tx: EntityManager, options: EmitOptions<T>): Promise<EventEnvelope<T>> {
  if (!tx.getTransactionContext()) throw new Error('emit() must run inside a transaction: the event is written with the state change');
  const envelope: EventEnvelope<T> = {
    eventId: newId('evt'),
    type: options.type,
    version: EVENT_VERSION[options.type],
    occurredAt: new Date().toISOString(),
    aggregateId: options.aggregateId,
    correlationId: options.correlationId,
    payload: options.payload,
  };
  // With tracing on, the event carries the trace of the transaction that emitted it (relay.ts puts it in the AMQP headers).
  const trace = traceContextHeaders();
  if (trace.traceparent) envelope.trace = trace;
  await kysely<MessagingDb>(tx)
    .insertInto('outbox')
    .values({ event_id: envelope.eventId, type: envelope.type, routing_key: envelope.type, body: JSON.stringify(envelope) })
    .execute();
  return envelope;
}
