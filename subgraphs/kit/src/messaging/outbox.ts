import type { EntityManager } from '@mikro-orm/postgresql';
import { EVENT_VERSION, type EventEnvelope, type EventPayload, type EventType } from '@shop/schema';
import { newId } from '../ids.js';
import { traceContextHeaders } from '../tracing.js';
import type { DeleteQueryBuilder, DeleteResult } from 'kysely';
import { kysely, sql, type KyselyDb, type QueryCreator } from '../persistence/kysely.js';
import type { messagingEntities } from '../persistence/messaging-entities.js';

/** The outbox and inbox tables as Kysely sees them. */
export type MessagingDb = KyselyDb<typeof messagingEntities>;

export interface EmitOptions<T extends EventType> {
  type: T;
  aggregateId: string;
  correlationId: string;
  payload: EventPayload<T>;
  /**
   * Hold the event back this long (the relay publishes it only then): a fallback that the caller
   * withdraws (withdrawal) when a synchronous path made it unnecessary, or releases at once
   * (releaseEvent) when that path failed. Lost with nothing else: a crash before either still publishes it.
   */
  deferMs?: number;
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
  const { envelope, row } = outboxRow(options);
  await kysely<MessagingDb>(tx).insertInto('outbox').values(row).execute();
  return envelope;
}

/**
 * An event's envelope and its outbox row, for a caller that writes the row within a larger
 * statement of its own transaction (an INSERT among others in one WITH); emit() is the usual way.
 */
export function outboxRow<T extends EventType>(options: EmitOptions<T>) {
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
  const row = {
    event_id: envelope.eventId,
    type: envelope.type,
    routing_key: envelope.type,
    body: JSON.stringify(envelope),
    ...(options.deferMs ? { retry_at: sql<string>`clock_timestamp() + make_interval(secs => ${options.deferMs / 1000})` } : {}),
  };
  return { envelope, row };
}

/**
 * Removes a deferred event that is not published yet, as a write for the statement that makes the
 * state change it would have brought about (a status move's: kit apply.ts `alongside`). When the
 * relay got to it first (it is published, or being published: the delete waits for the relay's lock
 * and then finds it sent), it deletes nothing, and the consumers take the event as they take any
 * repeat; running it twice deletes nothing more.
 */
export const withdrawal =
  (eventId: string) =>
  (db: QueryCreator<MessagingDb>): DeleteQueryBuilder<MessagingDb, 'outbox', DeleteResult> =>
    db.deleteFrom('outbox').where('event_id', '=', eventId).where('published_at', 'is', null);

/** Publishes a deferred event now (its synchronous alternative failed): the relay takes it at its next pass. */
export async function releaseEvent(em: EntityManager, eventId: string): Promise<void> {
  await kysely<MessagingDb>(em).updateTable('outbox').set({ retry_at: null }).where('event_id', '=', eventId).where('published_at', 'is', null).execute();
}
