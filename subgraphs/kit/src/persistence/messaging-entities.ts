import { defineEntity, p } from '@mikro-orm/core';

/**
 * The outbox and inbox tables every subgraph has in its own schema (created by
 * Migration20261124000000_messaging, retry_at by Migration20261202000001_outbox_unroutable). Each subgraph lists these entities beside its own.
 */
export const OutboxEntity = defineEntity({
  name: 'Outbox',
  tableName: 'outbox',
  properties: {
    eventId: p.text().primary(),
    type: p.text(),
    routingKey: p.text(),
    body: p.json<unknown>(),
    createdAt: p.datetime().defaultRaw('clock_timestamp()'),
    publishedAt: p.datetime().nullable(),
    attempts: p.integer().default(0),
    lastError: p.text().nullable(),
    // An event no queue is bound for waits until then (the relay's unroutable handling).
    retryAt: p.datetime().nullable(),
  },
  // The relay reads unpublished rows only; once published they leave this partial index.
  indexes: [
    { name: 'outbox_unpublished_idx', properties: ['createdAt'], where: 'published_at IS NULL' },
    // Retention deletes published rows oldest first (retention.ts).
    { name: 'outbox_published_idx', properties: ['publishedAt'], where: 'published_at IS NOT NULL' },
  ],
  // LISTEN/NOTIFY wakes the relay at once for a row it may publish now; a deferred row (retry_at
  // set) wakes nothing: the relay's poll takes it when it is due. The function outbox_notify() is
  // created by the first messaging migration, the condition by Migration20261202143000_outbox_notify_ready.
  triggers: [
    {
      name: 'outbox_notify',
      timing: 'after',
      events: ['insert'],
      forEach: 'row',
      when: 'NEW.retry_at IS NULL',
      // SQL string: the trigger's DDL, MikroORM's escape hatch for a trigger whose function it did not create.
      expression: 'CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH ROW WHEN (NEW.retry_at IS NULL) EXECUTE FUNCTION outbox_notify()',
    },
  ],
});

export const InboxEntity = defineEntity({
  name: 'Inbox',
  tableName: 'inbox',
  properties: {
    consumer: p.text().primary(),
    eventId: p.text().primary(),
    type: p.text(),
    processedAt: p.datetime().defaultRaw('now()'),
  },
  // Retention deletes rows past the deduplication horizon (retention.ts).
  indexes: [{ name: 'inbox_processed_idx', properties: ['processedAt'] }],
});

export const messagingEntities = [OutboxEntity, InboxEntity] as const;
