import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Connection, Consumer } from 'rabbitmq-client';
import { Migration } from '@mikro-orm/migrations';
import { defineEntity, p } from '@mikro-orm/core';
import { EVENT_VERSION, type EventEnvelope } from '@shop/schema';
import { openDatabase } from '../db.js';
import { newId } from '../ids.js';
import { registry } from '../metrics.js';
import { eventually } from '../testing.js';
import { startConsumer } from './consumer.js';
import { messagingMigrations } from './migration.js';
import { connectBroker, deadLetterQueue, queueName } from './topology.js';
import {
  DeadLetterError,
  discardDeadLetters,
  listDeadLetterQueues,
  peekDeadLetters,
  replayDeadLetters,
  startDeadLetterGauge,
  type DeadLetterGauge,
} from './dead-letters.js';

class Migration20261124000200_dead_letter_probe extends Migration {
  override up(): void {
    this.addSql('CREATE TABLE applied (event_id text NOT NULL, order_id text NOT NULL)');
  }
}

const Applied = defineEntity({ name: 'Applied', tableName: 'applied', properties: { eventId: p.string().primary(), orderId: p.string() } });

const CONSUMER = { service: 'kit', name: 'dead-letters' };
const queue = queueName(CONSUMER.service, CONSUMER.name);
const dlq = deadLetterQueue(queue);

let orm: MikroORM;
let connection: Connection;
let consumer: Consumer;
let gauge: DeadLetterGauge | undefined;
/** Orders whose events the handler refuses (the "bug"); deleting one is the fix. */
const failing = new Set<string>();
const handled = new Map<string, number>();

beforeAll(async () => {
  orm = await openDatabase({
    schema: 'kit_dead_letters',
    entities: [Applied],
    migrations: [...messagingMigrations, Migration20261124000200_dead_letter_probe],
  });
  connection = connectBroker('kit-dead-letters-test');
  consumer = await startConsumer({
    connection,
    orm,
    ...CONSUMER,
    retry: { delaysMs: [10, 20], horizonMs: 150 },
    handlers: {
      'order.status-changed': async (tx, e) => {
        const { orderId } = e.payload;
        if (!orderId.startsWith('ord_dlq_')) return; // another test's event on the shared exchange
        if (failing.has(orderId)) throw new Error(`handler bug for ${orderId}`);
        handled.set(orderId, (handled.get(orderId) ?? 0) + 1);
        await tx.getConnection().execute('INSERT INTO applied (event_id, order_id) VALUES (?, ?)', [e.eventId, orderId], 'run', tx.getTransactionContext());
      },
    },
  });
});
afterAll(async () => {
  gauge?.stop();
  await consumer?.close();
  if (connection) {
    await connection.queueDelete({ queue }).catch(() => undefined);
    await connection.queueDelete({ queue: dlq }).catch(() => undefined);
    await connection.close();
  }
  await orm?.close();
});

const envelopeFor = (orderId: string): EventEnvelope<'order.status-changed'> => ({
  eventId: newId('evt'),
  type: 'order.status-changed',
  version: EVENT_VERSION['order.status-changed'],
  occurredAt: new Date().toISOString(),
  aggregateId: orderId,
  correlationId: 'dlq-test',
  payload: { orderId, userId: 'u1', from: 'PENDING_PAYMENT', to: 'PAID', reason: null, version: 2 },
});

/** Publishes straight to a queue with confirms, as the relay would through the exchange. */
async function sendTo(target: string, envelope: EventEnvelope, headers: Record<string, unknown> = {}) {
  const publisher = connection.createPublisher({ confirm: true });
  await publisher.send(
    { routingKey: target, messageId: envelope.eventId, type: envelope.type, contentType: 'application/json', durable: true, headers },
    envelope,
  );
  await publisher.close();
}

const appliedCount = async (orderId: string) =>
  Number((await orm.em.getConnection().execute<{ n: string }[]>('SELECT count(*) AS n FROM applied WHERE order_id = ?', [orderId]))[0]!.n);
const inboxCount = async (eventId: string) =>
  Number(
    (
      await orm.em.getConnection().execute<{ n: string }[]>("SELECT count(*) AS n FROM inbox WHERE consumer = 'kit.dead-letters' AND event_id = ?", [eventId])
    )[0]!.n,
  );
const dlqDepth = async () => (await listDeadLetterQueues(connection, [CONSUMER]))[0]!.messages;
const queueDepth = async () => (await connection.queueDeclare({ queue, passive: true })).messageCount;

/** Sends an event for a failing order and waits until the broker dead-lettered it. */
async function deadLettered(orderId: string) {
  failing.add(orderId);
  const envelope = envelopeFor(orderId);
  const before = (await dlqDepth()) ?? 0;
  await sendTo(queue, envelope);
  await eventually(async () => ((await dlqDepth()) === before + 1 ? true : undefined), { timeoutMs: 20_000 });
  return envelope;
}

describe('dead-letter tooling', () => {
  it('lists, shows, replays exactly once, and discards', async () => {
    const orderId = `ord_dlq_${Date.now()}`;
    const envelope = await deadLettered(orderId);

    const listed = await listDeadLetterQueues(connection, [CONSUMER]);
    expect(listed).toEqual([{ consumer: 'kit.dead-letters', queue, dlq, messages: 1 }]);

    const shown = await peekDeadLetters(connection, queue, 10);
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({
      eventId: envelope.eventId,
      type: 'order.status-changed',
      occurredAt: envelope.occurredAt,
      aggregateId: orderId,
      reason: 'past_horizon',
      lastError: `handler bug for ${orderId}`,
      deadLetterCount: 1,
      replays: 0,
      payload: envelope.payload,
    });
    // Peeking leaves the message where it was (the broker counts it as ready again shortly after).
    await eventually(async () => ((await dlqDepth()) === 1 ? true : undefined));
    expect(await appliedCount(orderId)).toBe(0);

    // The handler is fixed; the replay goes through the same consumer and its inbox.
    failing.delete(orderId);
    const progress: [number, number][] = [];
    const result = await replayDeadLetters(connection, queue, { all: true, onProgress: (done, total) => progress.push([done, total]) });
    expect(result).toEqual({ replayed: 1, kept: 0, missing: [], tooOld: [] });
    expect(progress.at(-1)).toEqual([1, 1]);
    await eventually(async () => ((await appliedCount(orderId)) === 1 ? true : undefined));
    await eventually(async () => ((await dlqDepth()) === 0 ? true : undefined));
    expect(await inboxCount(envelope.eventId)).toBe(1);

    // A second copy of the same event reaches the DLQ (say a replay crashed before its ack) and is replayed too: still applied once.
    await sendTo(dlq, envelope, { 'x-death': [{ count: 1, reason: 'delivery_limit', queue }], 'x-first-death-reason': 'delivery_limit' });
    await eventually(async () => ((await dlqDepth()) === 1 ? true : undefined));
    const again = await replayDeadLetters(connection, queue, { eventIds: [envelope.eventId] });
    expect(again).toEqual({ replayed: 1, kept: 0, missing: [], tooOld: [] });
    await eventually(async () => ((await queueDepth()) === 0 && (await dlqDepth()) === 0 ? true : undefined));
    expect(await appliedCount(orderId)).toBe(1);
    expect(handled.get(orderId)).toBe(1);
    expect(await inboxCount(envelope.eventId)).toBe(1);

    // Discard removes exactly the named event.
    const doomed = await deadLettered(`ord_dlq_discard_${Date.now()}`);
    const kept = await deadLettered(`ord_dlq_keep_${Date.now()}`);
    const discarded = await discardDeadLetters(connection, queue, { eventIds: [doomed.eventId, 'evt_not_there'] });
    expect(discarded).toEqual({ discarded: 1, missing: ['evt_not_there'] });
    const left = await eventually(async () => {
      const peeked = await peekDeadLetters(connection, queue, 10);
      return peeked.length > 0 ? peeked : undefined;
    });
    expect(left.map((d) => d.eventId)).toEqual([kept.eventId]);

    // Replaying an event that still fails brings it back to the DLQ; the run does not loop on it.
    const stillFailing = await replayDeadLetters(connection, queue, { eventIds: [kept.eventId] });
    expect(stillFailing.replayed).toBe(1);
    const back = await eventually(
      async () => {
        const [d] = await peekDeadLetters(connection, queue, 1);
        return d?.eventId === kept.eventId ? d : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(back).toMatchObject({ replays: 1, deadLetterCount: 2, reason: 'past_horizon' });
    const removed = await eventually(async () => {
      const r = await discardDeadLetters(connection, queue, { eventIds: [kept.eventId] });
      return r.discarded === 1 ? r : undefined;
    });
    expect(removed).toEqual({ discarded: 1, missing: [] });
    await eventually(async () => ((await dlqDepth()) === 0 ? true : undefined));
  });

  it('samples the backlog into the dlq_backlog gauge', async () => {
    const envelope = await deadLettered(`ord_dlq_gauge_${Date.now()}`);
    gauge = startDeadLetterGauge(connection, [CONSUMER, { service: 'kit', name: 'never-started' }], 60_000);
    await gauge.sample();
    const metric = await registry.getSingleMetric('dlq_backlog')!.get();
    const value = (consumer: string) => metric.values.find((v) => v.labels.consumer === consumer)?.value;
    expect(value('kit.dead-letters')).toBe(1);
    expect(value('kit.never-started')).toBeUndefined();
    expect(await discardDeadLetters(connection, queue, { eventIds: [envelope.eventId] })).toEqual({ discarded: 1, missing: [] });
    await eventually(async () => {
      await gauge!.sample();
      return (await registry.getSingleMetric('dlq_backlog')!.get()).values.find((v) => v.labels.consumer === 'kit.dead-letters')?.value === 0
        ? true
        : undefined;
    });
  });

  it('refuses unclear requests and unknown queues', async () => {
    await expect(replayDeadLetters(connection, queue, {})).rejects.toThrow(DeadLetterError);
    await expect(replayDeadLetters(connection, queue, { all: true, eventIds: ['evt_x'] })).rejects.toThrow(/not both/);
    await expect(peekDeadLetters(connection, queueName('kit', 'no-such-consumer'))).rejects.toThrow(/no dead-letter queue/);
    await expect(discardDeadLetters(connection, queue, { eventIds: [] })).rejects.toThrow(/name the events/);
  });
});
