import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Only the tracing module is loaded statically: tracing must start before pg loads.
import { startInMemoryTracing, stopTracing, type FinishedSpan } from '../tracing.js';

const { exporter, api } = startInMemoryTracing('kit-messaging-tracing-test');

const { openDatabase } = await import('../db.js');
const { eventually } = await import('../testing.js');
const { emit } = await import('./outbox.js');
const { startOutboxRelay } = await import('./relay.js');
const { startConsumer } = await import('./consumer.js');
const { connectBroker, deadLetterQueue, queueName } = await import('./topology.js');
const { messagingMigrations } = await import('./migration.js');
const { DEFAULT_RETRY_DELAYS_MS, delayQueue } = await import('./retry.js');
const { defineEntity, p } = await import('@mikro-orm/core');
/** MikroORM wants one entity; the handler writes nothing but its inbox row. */
const Probe = defineEntity({ name: 'TracedProbe', tableName: 'traced_probe', properties: { id: p.string().primary() } });

type Span = FinishedSpan;
const QUEUE = queueName('kit', 'traced');

let orm: Awaited<ReturnType<typeof openDatabase>>;
let connection: ReturnType<typeof connectBroker>;
let consumer: Awaited<ReturnType<typeof startConsumer>>;
let relay: ReturnType<typeof startOutboxRelay>;

beforeAll(async () => {
  orm = await openDatabase({ schema: 'kit_messaging_tracing', entities: [Probe], migrations: messagingMigrations });
  connection = connectBroker('kit-messaging-tracing-test');
  consumer = await startConsumer({
    connection,
    orm,
    service: 'kit',
    name: 'traced',
    handlers: { 'order.status-changed': async (tx) => void (await tx.getConnection().execute('SELECT 1', [], 'all', tx.getTransactionContext())) },
  });
  relay = startOutboxRelay({ orm, connection, schema: 'kit_messaging_tracing', pollMs: 100 });
});
afterAll(async () => {
  await relay?.stop();
  await consumer?.close();
  await connection?.queueDelete({ queue: QUEUE }).catch(() => undefined);
  await connection?.queueDelete({ queue: deadLetterQueue(QUEUE) }).catch(() => undefined);
  for (const ms of DEFAULT_RETRY_DELAYS_MS) await connection?.queueDelete({ queue: delayQueue(QUEUE, ms) }).catch(() => undefined);
  await connection?.close();
  await orm?.close();
  await stopTracing();
});

const isPostgres = (s: Span) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql';

describe('RabbitMQ spans of the outbox relay and the consumers', () => {
  it('publishes in a PRODUCER span linked to the emitting trace, and consumes in a CONSUMER span of that trace linked to the publish', async () => {
    const orderId = `ord_traced_${Date.now()}`;
    // The request that emits the event: its span is active while the transaction writes the outbox row.
    const request = await api.trace.getTracer('test').startActiveSpan('request', async (span) => {
      try {
        const envelope = await orm.em.fork().transactional((tx) =>
          emit(tx, {
            type: 'order.status-changed',
            aggregateId: orderId,
            correlationId: 'test',
            payload: { orderId, userId: 'u1', from: 'PENDING_PAYMENT', to: 'PAID', reason: null, version: 2 },
          }),
        );
        return { envelope, context: span.spanContext() };
      } finally {
        span.end();
      }
    });
    const { envelope, context } = request;
    expect(envelope.trace?.traceparent).toContain(context.traceId);
    const finished = () => exporter.getFinishedSpans();
    const withEvent = (kind: number) => finished().find((s) => s.kind === kind && s.attributes['messaging.message.id'] === envelope.eventId);

    const consumed = await eventually(async () => withEvent(api.SpanKind.CONSUMER));
    const published = withEvent(api.SpanKind.PRODUCER)!;
    expect(published).toBeDefined();

    // The publish: its own trace (the relay's pass, not the request), linked to the emitting span.
    expect(published.name).toBe('publish order.status-changed');
    expect(published.spanContext().traceId).not.toBe(context.traceId);
    expect(published.links.map((l) => l.context)).toEqual([expect.objectContaining({ traceId: context.traceId, spanId: context.spanId })]);
    expect(published.attributes).toMatchObject({ 'messaging.system': 'rabbitmq', 'messaging.rabbitmq.destination.routing_key': 'order.status-changed' });

    // The consumption: a child of the emitting span, linked to the publish, with the handler's queries under it.
    expect(consumed.name).toBe('consume order.status-changed');
    expect(consumed.spanContext().traceId).toBe(context.traceId);
    expect(consumed.parentSpanContext?.spanId).toBe(context.spanId);
    expect(consumed.links.map((l) => l.context)).toEqual([
      expect.objectContaining({ traceId: published.spanContext().traceId, spanId: published.spanContext().spanId }),
    ]);
    expect(consumed.attributes).toMatchObject({ 'messaging.system': 'rabbitmq', 'messaging.destination.name': QUEUE });
    await eventually(async () => (finished().some((s) => isPostgres(s) && s.parentSpanContext?.spanId === consumed.spanContext().spanId) ? true : undefined));
  });
});
