import type { EntityManager } from '@mikro-orm/postgresql';
import { EVENT_VERSION, type EventEnvelope, type EventPayload, type EventType } from '@shop/schema';
import { newId } from '../ids.js';

export interface EmitOptions<T extends EventType> {
  type: T;
  aggregateId: string;
  correlationId: string;
  payload: EventPayload<T>;
}

/**
 * Records a domain event in the outbox of the current transaction. It is published by the relay
 * only if this transaction commits, and never lost if the process dies right after the commit.
 * Call it with the transactional EntityManager (`em.transactional(async (tx) => emit(tx, ...))`).
 */
export async function emit<T extends EventType>(tx: EntityManager, options: EmitOptions<T>): Promise<EventEnvelope<T>> {
  const ctx = tx.getTransactionContext();
  if (!ctx) throw new Error('emit() must run inside a transaction: the event is written with the state change');
  const envelope: EventEnvelope<T> = {
    eventId: newId('evt'),
    type: options.type,
    version: EVENT_VERSION[options.type],
    occurredAt: new Date().toISOString(),
    aggregateId: options.aggregateId,
    correlationId: options.correlationId,
    payload: options.payload,
  };
  await tx
    .getConnection()
    .execute(
      'INSERT INTO outbox (event_id, type, routing_key, body) VALUES (?, ?, ?, ?)',
      [envelope.eventId, envelope.type, envelope.type, JSON.stringify(envelope)],
      'run',
      ctx,
    );
  return envelope;
}
