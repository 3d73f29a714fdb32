import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Connection, Consumer } from 'rabbitmq-client';
import { defineEntity, p } from '@mikro-orm/core';
import { openDatabase } from '../db.js';
import { eventually } from '../testing.js';
import { emit } from './outbox.js';
import { startOutboxRelay, type OutboxRelay } from './relay.js';
import { startConsumer } from './consumer.js';
import { connectBroker, deadLetterQueue, queueName } from './topology.js';
import { messagingMigrations } from './migration.js';
import { Migration } from '@mikro-orm/migrations';
import { registry } from '../metrics.js';
import { DEFAULT_RETRY_DELAYS_MS, delayQueue } from './retry.js';
import { eventsExchange } from './topology.js';

class Migration20261124000100_probe extends Migration {
  override up(): void {
    this.addSql('CREATE TABLE effect (event_id text NOT NULL, order_id text NOT NULL)');
  }
}
const Effect = defineEntity({ name: 'Effect', tableName: 'effect', properties: { eventId: p.string().primary(), orderId: p.string() } });

let orm: MikroORM;
let connection: Connection;
const consumers: Consumer[] = [];
const relays: OutboxRelay[] = [];

beforeAll(async () => {
  orm = await openDatabase({ schema: 'kit_messaging', entities: [Effect], migrations: [...messagingMigrations, Migration20261124000100_probe] });
  connection = connectBroker('kit-messaging-test');
});
afterAll(async () => {
  for (const r of relays) await r.stop();
  for (const c of consumers) await c.close();
  for (const q of ['ok', 'poison', 'dedupe', 'outage', 'shared'].map((n) => queueName('kit', n))) {
    await connection.queueDelete({ queue: q }).catch(() => undefined);
    await connection.queueDelete({ queue: deadLetterQueue(q) }).catch(() => undefined);
    for (const ms of [20, 40, 100, 200, 400, ...DEFAULT_RETRY_DELAYS_MS]) await connection.queueDelete({ queue: delayQueue(q, ms) }).catch(() => undefined);
  }
  await connection.close();
  await orm.close();
});

const sql = <T>(query: string, params: unknown[] = []) => orm.em.getConnection().execute<T>(query, params);

async function emitStatus(orderId: string) {
  return orm.em.fork().transactional((tx) =>
    emit(tx, {
      type: 'order.status-changed',
      aggregateId: orderId,
      correlationId: 'test',
      payload: { orderId, userId: 'u1', from: 'PENDING_PAYMENT', to: 'PAID', reason: null, version: 2 },
    }),
  );
}
const effectsFor = async (orderId: string) => (await sql<{ n: string }[]>('SELECT count(*) AS n FROM effect WHERE order_id = ?', [orderId]))[0]!.n;

describe('outbox, relay and inbox', () => {
  it('publishes a committed event once and the consumer applies it once, also when delivered twice', async () => {
    const orderId = `ord_ok_${Date.now()}`;
    consumers.push(
      await startConsumer({
        connection,
        orm,
        service: 'kit',
        name: 'ok',
        handlers: {
          'order.status-changed': async (tx, e) => {
            if (e.payload.orderId !== orderId) return;
            await tx
              .getConnection()
              .execute('INSERT INTO effect (event_id, order_id) VALUES (?, ?)', [e.eventId, e.payload.orderId], 'run', tx.getTransactionContext());
          },
        },
      }),
    );
    const relay = startOutboxRelay({ orm, connection, schema: 'kit_messaging', pollMs: 100 });
    relays.push(relay);
    const envelope = await emitStatus(orderId);
    await eventually(async () => ((await effectsFor(orderId)) === '1' ? true : undefined));
    // Deliver the very same event again, as a broker redelivery would.
    const pub = connection.createPublisher({ confirm: true });
    await pub.send({ exchange: `${process.env.SHOP_RUN_ID}.shop.events`, routingKey: 'order.status-changed', contentType: 'application/json' }, envelope);
    await pub.close();
    const inbox = await eventually(async () => {
      const rows = await sql<{ n: string }[]>('SELECT count(*) AS n FROM inbox WHERE event_id = ?', [envelope.eventId]);
      return rows[0]!.n === '1' ? rows : undefined;
    });
    expect(inbox).toBeDefined();
    expect(await effectsFor(orderId)).toBe('1');
    const published = await sql<{ published_at: Date | null }[]>('SELECT published_at FROM outbox WHERE event_id = ?', [envelope.eventId]);
    expect(published[0]!.published_at).not.toBeNull();
  });

  it('republishes when the relay dies between publish and mark-sent, and the consumer deduplicates', async () => {
    const orderId = `ord_dd_${Date.now()}`;
    let deliveries = 0;
    consumers.push(
      await startConsumer({
        connection,
        orm,
        service: 'kit',
        name: 'dedupe',
        handlers: {
          'order.status-changed': async (tx, e) => {
            if (e.payload.orderId !== orderId) return;
            deliveries += 1;
            await tx
              .getConnection()
              .execute('INSERT INTO effect (event_id, order_id) VALUES (?, ?)', [e.eventId, e.payload.orderId], 'run', tx.getTransactionContext());
          },
        },
      }),
    );
    for (const r of relays.splice(0)) await r.stop();
    let crashes = 0;
    const crashing = startOutboxRelay({
      orm,
      connection,
      schema: 'kit_messaging',
      pollMs: 60_000,
      afterPublish: () => {
        crashes += 1;
        throw new Error('relay killed after the broker confirmed, before marking sent');
      },
    });
    const envelope = await emitStatus(orderId);
    await expect(crashing.drain()).rejects.toThrow(/relay killed/);
    await crashing.stop();
    expect(crashes).toBeGreaterThanOrEqual(1);
    const unpublished = await sql<{ published_at: Date | null }[]>('SELECT published_at FROM outbox WHERE event_id = ?', [envelope.eventId]);
    expect(unpublished[0]!.published_at).toBeNull();

    const healthy = startOutboxRelay({ orm, connection, schema: 'kit_messaging', pollMs: 100 });
    relays.push(healthy);
    await eventually(async () =>
      (await sql<{ published_at: Date | null }[]>('SELECT published_at FROM outbox WHERE event_id = ?', [envelope.eventId]))[0]!.published_at
        ? true
        : undefined,
    );
    // Both copies reached the consumer's queue; one effect, one inbox row.
    await eventually(async () => ((await effectsFor(orderId)) === '1' ? true : undefined));
    const dupes = await eventually(async () => {
      const q = await connection.queueDeclare({ queue: queueName('kit', 'dedupe'), passive: true });
      return q.messageCount === 0 ? q : undefined;
    });
    expect(dupes.messageCount).toBe(0);
    expect(deliveries).toBe(1);
    expect(await effectsFor(orderId)).toBe('1');
  });

  it('retries a failing handler through the delay queues, then dead-letters it past the horizon with the reason', async () => {
    const orderId = `ord_poison_${Date.now()}`;
    let attempts = 0;
    consumers.push(
      await startConsumer({
        connection,
        orm,
        service: 'kit',
        name: 'poison',
        retry: { delaysMs: [20, 40], horizonMs: 200 },
        handlers: {
          'order.status-changed': async (_tx, e) => {
            if (e.payload.orderId !== orderId) return;
            attempts += 1;
            throw new Error('handler keeps failing');
          },
        },
      }),
    );
    const envelope = await emitStatus(orderId);
    const dead = await eventually(
      async () => {
        const msg = await connection.basicGet({ queue: deadLetterQueue(queueName('kit', 'poison')), noAck: true });
        return msg ?? undefined;
      },
      { timeoutMs: 20_000 },
    );
    const body = JSON.parse(Buffer.isBuffer(dead.body) ? dead.body.toString() : JSON.stringify(dead.body));
    expect(body.eventId).toBe(envelope.eventId);
    expect(dead.headers?.['x-shop-death-reason']).toBe('past_horizon');
    expect(dead.headers?.['x-shop-last-error']).toBe('handler keeps failing');
    expect(attempts).toBeGreaterThanOrEqual(3);
    const inbox = await sql<{ n: string }[]>("SELECT count(*) AS n FROM inbox WHERE consumer = 'kit.poison' AND event_id = ?", [envelope.eventId]);
    expect(inbox[0]!.n).toBe('0');
  });

  it('rides out a downstream outage shorter than the horizon: growing broker-held delays, applied once, nothing parked', async () => {
    const orderId = `ord_outage_${Date.now()}`;
    const seen: number[] = [];
    let outageUntil = 0;
    consumers.push(
      await startConsumer({
        connection,
        orm,
        service: 'kit',
        name: 'outage',
        retry: { delaysMs: [100, 200, 400], horizonMs: 20_000 },
        handlers: {
          'order.status-changed': async (tx, e) => {
            if (e.payload.orderId !== orderId) return;
            seen.push(Date.now());
            if (Date.now() < outageUntil) throw new Error('order subgraph unavailable');
            await tx
              .getConnection()
              .execute('INSERT INTO effect (event_id, order_id) VALUES (?, ?)', [e.eventId, e.payload.orderId], 'run', tx.getTransactionContext());
          },
        },
      }),
    );
    relays.push(startOutboxRelay({ orm, connection, schema: 'kit_messaging', pollMs: 100 }));
    outageUntil = Date.now() + 1_200;
    await emitStatus(orderId);
    await eventually(async () => ((await effectsFor(orderId)) === '1' ? true : undefined), { timeoutMs: 10_000 });
    const gaps = seen.slice(1).map((t, i) => t - seen[i]!);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    // Each wait was held by the broker and grew: ≈100, 200, 400, 400 ms.
    expect(gaps[0]).toBeGreaterThanOrEqual(90);
    expect(gaps[1]).toBeGreaterThanOrEqual(190);
    expect(gaps[2]).toBeGreaterThanOrEqual(390);
    const dlq = await connection.queueDeclare({ queue: deadLetterQueue(queueName('kit', 'outage')), passive: true });
    expect(dlq.messageCount).toBe(0);
  });

  it('with shared transactions: applies each event once, acks only committed ones, and a poisoned one fails alone', async () => {
    const stamp = Date.now();
    const good = Array.from({ length: 8 }, (_, i) => `ord_shared_${stamp}_${i}`);
    const poisoned = `ord_shared_${stamp}_poison`;
    const mine = new Set([...good, poisoned]);
    const attempts = new Map<string, number>();
    consumers.push(
      await startConsumer({
        connection,
        orm,
        service: 'kit',
        name: 'shared',
        concurrency: 8,
        shareTransactions: true,
        retry: { delaysMs: [20, 40], horizonMs: 200 },
        handlers: {
          'order.status-changed': async (tx, e) => {
            if (!mine.has(e.payload.orderId)) return;
            attempts.set(e.payload.orderId, (attempts.get(e.payload.orderId) ?? 0) + 1);
            await tx
              .getConnection()
              .execute('INSERT INTO effect (event_id, order_id) VALUES (?, ?)', [e.eventId, e.payload.orderId], 'run', tx.getTransactionContext());
            if (e.payload.orderId === poisoned) throw new Error('poisoned event');
          },
        },
      }),
    );
    if (relays.length === 0) relays.push(startOutboxRelay({ orm, connection, schema: 'kit_messaging', pollMs: 100 }));
    // All in one transaction: one relay pass publishes them together, so the consumer gets them at once.
    const envelopes = await orm.em.fork().transactional(async (tx) => {
      const out = [];
      for (const orderId of [good[0]!, good[1]!, poisoned, ...good.slice(2)]) {
        out.push(
          await emit(tx, {
            type: 'order.status-changed',
            aggregateId: orderId,
            correlationId: 'test',
            payload: { orderId, userId: 'u1', from: 'PENDING_PAYMENT', to: 'PAID', reason: null, version: 2 },
          }),
        );
      }
      return out;
    });
    const dead = await eventually(async () => (await connection.basicGet({ queue: deadLetterQueue(queueName('kit', 'shared')), noAck: true })) ?? undefined, {
      timeoutMs: 20_000,
    });
    const body = JSON.parse(Buffer.isBuffer(dead.body) ? dead.body.toString() : JSON.stringify(dead.body));
    expect(body.payload.orderId).toBe(poisoned);
    for (const orderId of good) expect(await effectsFor(orderId)).toBe('1');
    expect(await effectsFor(poisoned)).toBe('0');
    const inbox = await sql<{ event_id: string }[]>("SELECT event_id FROM inbox WHERE consumer = 'kit.shared'");
    const goodIds = envelopes.filter((e) => e.payload.orderId !== poisoned).map((e) => e.eventId);
    expect(inbox.map((r) => r.event_id).sort()).toEqual([...goodIds].sort());
    const queue = await eventually(async () => {
      const q = await connection.queueDeclare({ queue: queueName('kit', 'shared'), passive: true });
      return q.messageCount === 0 ? q : undefined;
    });
    expect(queue.messageCount).toBe(0);
    const committed = (await registry.getSingleMetric('group_commit_units_total')!.get()).values.filter((v) => v.labels.name === 'kit.shared');
    expect(committed.reduce((n, v) => n + v.value, 0)).toBeGreaterThanOrEqual(good.length);
  });

  it('keeps an event no queue is bound for in the outbox, counts it, and publishes it once a binding exists', async () => {
    const routingKey = `kit.unbound.${Date.now()}`;
    for (const r of relays.splice(0)) await r.stop(); // nothing publishes the row before its routing key changes
    const envelope = await emitStatus(`ord_unbound_${Date.now()}`);
    // The same event under a routing key nobody binds: a renamed binding, or a first deploy before its consumer.
    await sql('UPDATE outbox SET routing_key = ? WHERE event_id = ?', [routingKey, envelope.eventId]);
    const relay = startOutboxRelay({ orm, connection, schema: 'kit_messaging', pollMs: 100, heldSampleMs: 100 });
    relays.push(relay);
    const row = async () =>
      (
        await sql<{ published_at: Date | null; last_error: string | null; retry_at: Date | null; attempts: number }[]>(
          'SELECT published_at, last_error, retry_at, attempts FROM outbox WHERE event_id = ?',
          [envelope.eventId],
        )
      )[0]!;
    const bounced = await eventually(async () => ((await row()).last_error ? row() : undefined));
    expect(bounced.published_at).toBeNull();
    expect(bounced.last_error).toMatch(/^unroutable: no queue is bound/);
    expect(bounced.retry_at).not.toBeNull();
    const counted = await registry.getSingleMetric('outbox_unroutable_total')!.get();
    expect(counted.values.find((v) => v.labels.routing_key === routingKey)?.value).toBeGreaterThanOrEqual(1);
    await eventually(async () => {
      const gauge = await registry.getSingleMetric('outbox_unroutable')!.get();
      return (gauge.values.find((v) => v.labels.schema === 'kit_messaging')?.value ?? 0) >= 1 ? true : undefined;
    });

    const queue = queueName('kit', 'late-binding');
    await connection.queueDeclare({ queue, durable: false, exclusive: true });
    await connection.queueBind({ exchange: eventsExchange(), queue, routingKey });
    await eventually(async () => ((await row()).published_at ? true : undefined), { timeoutMs: 10_000 });
    const msg = await eventually(async () => (await connection.basicGet({ queue, noAck: true })) ?? undefined);
    expect(msg.messageId).toBe(envelope.eventId);
  });
});
