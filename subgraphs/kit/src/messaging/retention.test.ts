import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Connection } from 'rabbitmq-client';
import { EVENT_VERSION } from '@shop/schema';
import { openDatabase } from '../db.js';
import { newId } from '../ids.js';
import { leaderLock } from '../leader-lock.js';
import { registry } from '../metrics.js';
import { sql as rawSql } from '../testing.js';
import { declareDeadLetterQueue } from './consumer.js';
import { pruneDeadLetters, replayDeadLetters } from './dead-letters.js';
import { messagingMigrations } from './migration.js';
import { messagingEntities } from '../persistence/messaging-entities.js';
import { pruneOnce, retentionPolicy, startRetention, type RetentionJob, type RetentionPolicy } from './retention.js';
import { connectBroker, deadLetterQueue, queueName } from './topology.js';

const SCHEMA = 'kit_retention';
let orm: MikroORM;
let connection: Connection;
const jobs: RetentionJob[] = [];
const queue = queueName('kit', 'retention');

beforeAll(async () => {
  orm = await openDatabase({ schema: SCHEMA, entities: [...messagingEntities], migrations: [...messagingMigrations] });
  connection = connectBroker('kit-retention-test');
});
afterAll(async () => {
  for (const job of jobs) await job.stop();
  await connection.queueDelete({ queue }).catch(() => undefined);
  await connection.queueDelete({ queue: deadLetterQueue(queue) }).catch(() => undefined);
  await connection.close();
  await orm.close();
});

const db = () => rawSql(orm.em.fork());
const count = async (query: string) => Number((await db().one<{ n: string }>(query))!.n);
const policy: RetentionPolicy = { outboxHours: 24, inboxHours: 168, batchSize: 400, maxBatches: 2 };

/** Rows of every kind: old published and inbox rows (to prune), recent ones and an old unpublished one (to keep). */
async function fill(old: number) {
  await db().run('TRUNCATE outbox, inbox');
  await db().run(
    `INSERT INTO outbox (event_id, type, routing_key, body, created_at, published_at)
     SELECT 'evt_old_' || i, 't', 't', '{}', now() - interval '3 days', now() - interval '2 days' FROM generate_series(1, ?) i`,
    [old],
  );
  await db().run(
    `INSERT INTO outbox (event_id, type, routing_key, body, published_at) SELECT 'evt_new_' || i, 't', 't', '{}', now() FROM generate_series(1, 5) i`,
  );
  await db().run(`INSERT INTO outbox (event_id, type, routing_key, body, created_at) VALUES ('evt_waiting', 't', 't', '{}', now() - interval '3 days')`);
  await db().run(
    `INSERT INTO inbox (consumer, event_id, type, processed_at) SELECT 'c', 'evt_old_' || i, 't', now() - interval '8 days' FROM generate_series(1, ?) i`,
    [old],
  );
  await db().run(`INSERT INTO inbox (consumer, event_id, type) SELECT 'c', 'evt_new_' || i, 't' FROM generate_series(1, 5) i`);
}

const metric = async (name: string, table: string) =>
  (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.schema === SCHEMA && v.labels.table === table)?.value;

describe('retention', () => {
  it('prunes published outbox rows and inbox rows past the horizon in batches, keeps the rest, and counts what it pruned and what waits', async () => {
    await fill(1000);
    const prunedBefore = (await metric('retention_pruned_total', 'outbox')) ?? 0;
    // Two batches of 400 a pass: 800 of the 1000 old rows go, 200 wait for the next pass.
    expect(await pruneOnce(orm, SCHEMA, policy)).toMatchObject({ outbox: 800, inbox: 800 });
    expect(await metric('retention_waiting', 'outbox')).toBe(200);
    expect(await metric('retention_waiting', 'inbox')).toBe(200);
    expect(await pruneOnce(orm, SCHEMA, policy)).toMatchObject({ outbox: 200, inbox: 200 });
    expect(await metric('retention_waiting', 'outbox')).toBe(0);
    expect(await metric('retention_rows', 'outbox')).toBe(6);
    expect(await metric('retention_rows', 'inbox')).toBe(5);
    expect((await metric('retention_pruned_total', 'outbox'))! - prunedBefore).toBe(1000);
    // Unpublished rows stay whatever their age; recent published and inbox rows stay.
    expect(await count(`SELECT count(*) AS n FROM outbox WHERE event_id = 'evt_waiting'`)).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM outbox WHERE event_id LIKE 'evt_new_%'`)).toBe(5);
    expect(await count(`SELECT count(*) AS n FROM inbox`)).toBe(5);
  });

  it('runs on the replica holding the leader lock only', async () => {
    await fill(300);
    const name = `retention:test:${randomUUID()}`;
    const a = startRetention({ orm, schema: SCHEMA, policy, lock: leaderLock(name), intervalMs: 3_600_000 });
    const b = startRetention({ orm, schema: SCHEMA, policy, lock: leaderLock(name), intervalMs: 3_600_000 });
    jobs.push(a, b);
    const [first, second] = [await a.tick(), await b.tick()];
    expect(first).toMatchObject({ outbox: 300, inbox: 300 });
    expect(second).toBeNull();
    await a.stop();
    // The leader stopped: the other replica takes over at its next tick.
    await fill(10);
    expect(await b.tick()).toMatchObject({ outbox: 10, inbox: 10 });
  });

  it('refuses a deduplication horizon that does not outlast the broker retries', () => {
    const saved = process.env.INBOX_DEDUP_HORIZON_HOURS;
    process.env.INBOX_DEDUP_HORIZON_HOURS = '1';
    try {
      expect(() => retentionPolicy()).toThrow(/INBOX_DEDUP_HORIZON_HOURS must be at least 24/);
    } finally {
      if (saved === undefined) delete process.env.INBOX_DEDUP_HORIZON_HOURS;
      else process.env.INBOX_DEDUP_HORIZON_HOURS = saved;
    }
  });

  it('prunes dead letters past the horizon, and the replay tool refuses them while they are there', async () => {
    await declareDeadLetterQueue(connection, queue);
    await connection.queueDeclare({ queue, durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const day = 24 * 3_600_000;
    const letter = (occurredAt: Date) => {
      const eventId = newId('evt');
      const body = {
        eventId,
        type: 'order.status-changed',
        version: EVENT_VERSION,
        occurredAt: occurredAt.toISOString(),
        aggregateId: 'ord_x',
        correlationId: 'c',
        payload: {},
      };
      return { eventId, body };
    };
    const old = letter(new Date(Date.now() - 8 * day));
    const fresh = letter(new Date());
    const publisher = connection.createPublisher({ confirm: true });
    for (const { eventId, body } of [old, fresh]) await publisher.send({ routingKey: deadLetterQueue(queue), messageId: eventId, durable: true }, body);
    await publisher.close();

    const refused = await replayDeadLetters(connection, queue, { eventIds: [old.eventId], horizonMs: 7 * day });
    expect(refused).toMatchObject({ replayed: 0, tooOld: [old.eventId] });

    expect(await pruneDeadLetters(connection, queue, 7 * day)).toBe(1);
    const left = await replayDeadLetters(connection, queue, { all: true, horizonMs: 7 * day });
    expect(left).toMatchObject({ replayed: 1, tooOld: [], missing: [] });
  });
});
