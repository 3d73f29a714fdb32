import pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Connection, Publisher } from 'rabbitmq-client';
import { databaseUrl } from '../config.js';
import { logger } from '../logger.js';
import { EVENTS_WITHOUT_CONSUMERS, isEventType } from '@shop/schema';
import { eventsExchange } from './topology.js';
import { kysely, dbClock, sql } from '../persistence/kysely.js';
import type { MessagingDb } from './outbox.js';
import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics.js';
import { inProducerSpan, tracingEnabled } from '../tracing.js';

const published = new Counter({ name: 'outbox_published_total', help: 'Events published by the outbox relay', registers: [registry] });
const backlog = new Gauge({ name: 'outbox_backlog', help: 'Unpublished outbox rows seen by the last relay pass', registers: [registry] });
const unroutable = new Counter({
  name: 'outbox_unroutable_total',
  help: 'Publishes the broker returned because no queue is bound for the routing key (the row stays unpublished)',
  labelNames: ['routing_key'] as const,
  registers: [registry],
});
const held = new Gauge({
  name: 'outbox_unroutable',
  help: 'Outbox rows held unpublished because the broker could not route them (alert: OutboxUnroutable)',
  labelNames: ['schema'] as const,
  registers: [registry],
});

/** The trace context an event carries in its body (outbox.ts): its publish span links it. */
const traceOf = (body: unknown): Record<string, string> => {
  try {
    const envelope = (typeof body === 'string' ? JSON.parse(body) : body) as { trace?: Record<string, string> };
    return envelope.trace ?? {};
  } catch {
    return {};
  }
};

/** How long a woken relay waits for more commits before its pass (RelayOptions.lingerMs). */
const DEFAULT_LINGER_MS = 15;

/** Backoff of an unroutable row: 1 s, 2 s, 4 s … up to a minute; a binding that appears is picked up within that. */
const unroutableRetrySeconds = (attempts: number): number => Math.min(60, 2 ** Math.min(attempts, 6));

export interface RelayOptions {
  orm: MikroORM;
  connection: Connection;
  /** The subgraph's schema: the relay listens on its outbox notifications. */
  schema: string;
  batchSize?: number;
  /** Fallback poll interval; new rows normally wake the relay through LISTEN/NOTIFY. */
  pollMs?: number;
  /**
   * How long the relay lingers after a wake-up before its pass (default 15 ms), so the rows that
   * concurrent transactions commit meanwhile go out in the same pass, one transaction for many
   * events rather than one each. drain() does not linger.
   */
  lingerMs?: number;
  /** How often outbox_unroutable is sampled. */
  heldSampleMs?: number;
  /** Fault-injection point for tests: runs after the broker confirmed a batch, before it is marked sent. */
  afterPublish?: (eventIds: string[]) => Promise<void> | void;
}

export interface OutboxRelay {
  /** Publishes what is pending now; resolves with the number of events published. */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Publishes outbox rows with publisher confirms (and mandatory, so the broker returns an event no
 * queue is bound for: such a row stays unpublished with last_error and a retry_at, is counted in
 * outbox_unroutable, and goes out once a binding exists), then marks them sent, in one transaction that
 * holds the rows with FOR UPDATE SKIP LOCKED. Several relays (one per process) share the work
 * without publishing a row twice at once, and none skips a row: there is no "id > last seen"
 * high-water mark that a late-committing transaction could slip under. A crash between publish and
 * commit leaves the rows unpublished, so they go out again: delivery is at least once and
 * consumers deduplicate by eventId.
 */
export function startOutboxRelay(options: RelayOptions): OutboxRelay {
  const batchSize = options.batchSize ?? 200;
  const returned = new Set<string>();
  const publisher: Publisher = options.connection.createPublisher({
    confirm: true,
    maxAttempts: 3,
    exchanges: [{ exchange: eventsExchange(), type: 'topic', durable: true }],
  });
  // The broker sends basic.return before the confirm of the same message; the client emits it on
  // the next turn of the event loop, so a pass waits one setImmediate after its confirms.
  publisher.on('basic.return', (msg: { messageId?: string }) => {
    if (msg.messageId) returned.add(msg.messageId);
  });
  let stopped = false;
  let running: Promise<number> | undefined;
  let again = false;

  const passOnce = async (): Promise<number> => {
    const em = options.orm.em.fork();
    return em.transactional(async (tx) => {
      const outbox = kysely<MessagingDb>(tx);
      const rows = await outbox
        .selectFrom('outbox')
        .select(['event_id', 'routing_key', 'type', 'body', 'attempts'])
        .where('published_at', 'is', null)
        .where((eb) => eb.or([eb('retry_at', 'is', null), eb('retry_at', '<=', sql<string>`clock_timestamp()`)]))
        .orderBy('created_at')
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      backlog.set(rows.length);
      if (rows.length === 0) return 0;
      await Promise.all(
        rows.map((row) =>
          inProducerSpan(
            `publish ${row.type}`,
            tracingEnabled() ? traceOf(row.body) : undefined,
            {
              'messaging.destination.name': eventsExchange(),
              'messaging.rabbitmq.destination.routing_key': row.routing_key,
              'messaging.message.id': row.event_id,
            },
            (headers) =>
              publisher.send(
                {
                  exchange: eventsExchange(),
                  routingKey: row.routing_key,
                  messageId: row.event_id,
                  type: row.type,
                  contentType: 'application/json',
                  durable: true,
                  mandatory: !(isEventType(row.type) && EVENTS_WITHOUT_CONSUMERS.has(row.type)),
                  // With tracing on: the publish span's context, which consumers link.
                  ...(tracingEnabled() ? { headers } : {}),
                },
                row.body,
              ),
          ),
        ),
      );
      await new Promise((resolve) => setImmediate(resolve));
      const bounced = rows.filter((r) => returned.delete(r.event_id));
      const ids = rows.filter((r) => !bounced.includes(r)).map((r) => r.event_id);
      await options.afterPublish?.(ids);
      if (ids.length > 0) {
        await outbox
          .updateTable('outbox')
          .set((eb) => ({ published_at: dbClock(), attempts: eb('attempts', '+', 1), retry_at: null }))
          .where('event_id', 'in', ids)
          .execute();
      }
      for (const row of bounced) {
        const reason = `unroutable: no queue is bound to ${eventsExchange()} for ${row.routing_key}`;
        await outbox
          .updateTable('outbox')
          .set((eb) => ({
            attempts: eb('attempts', '+', 1),
            last_error: reason,
            retry_at: sql<Date>`clock_timestamp() + make_interval(secs => ${unroutableRetrySeconds(row.attempts)})`,
          }))
          .where('event_id', '=', row.event_id)
          .execute();
        unroutable.inc({ routing_key: row.routing_key });
        logger.error({ eventId: row.event_id, type: row.type, attempts: row.attempts + 1 }, `${reason}: the event stays in the outbox`);
      }
      published.inc(ids.length);
      return rows.length;
    });
  };

  const drain = (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          let n: number;
          do {
            n = await passOnce();
            total += n;
          } while (n === batchSize && !stopped);
        } while (again && !stopped);
      } finally {
        running = undefined;
      }
      return total;
    })();
    return running;
  };

  const lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS;
  let lingering: NodeJS.Timeout | undefined;
  const kick = () => {
    if (stopped || lingering) return;
    lingering = setTimeout(() => {
      lingering = undefined;
      if (stopped) return;
      drain().catch((err: unknown) => logger.warn({ err }, 'outbox relay pass failed; will retry'));
    }, lingerMs);
  };

  // LISTEN on a dedicated connection: an insert into the outbox wakes the relay immediately. When
  // the server ends it (a restart), the relay polls and listens again on a new connection.
  const channel = `outbox_${options.schema}`;
  let listener: pg.Client | undefined;
  let relisten: NodeJS.Timeout | undefined;
  const listen = () => {
    if (stopped) return;
    const client = new pg.Client({ connectionString: databaseUrl(), connectionTimeoutMillis: 5000, keepAlive: true });
    listener = client;
    let lost = false;
    const retry = (err: unknown) => {
      if (lost || stopped) return;
      lost = true;
      logger.warn({ err }, 'outbox listener lost; polling until it listens again');
      client.end().catch(() => undefined);
      relisten = setTimeout(listen, 1000);
      relisten.unref();
    };
    client.on('notification', kick);
    client.on('error', retry);
    client.on('end', () => retry(new Error('connection ended')));
    client
      .connect()
      .then(() => client.query(`LISTEN "${channel}"`)) // SQL string: LISTEN is a session command on a dedicated pg connection
      .then(kick, retry);
  };
  listen();
  const timer = setInterval(kick, options.pollMs ?? 1000);
  kick();
  const sampleHeld = () => {
    kysely<MessagingDb>(options.orm.em.fork())
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('published_at', 'is', null)
      .where('retry_at', 'is not', null)
      .executeTakeFirst()
      .then((r) => held.set({ schema: options.schema }, Number(r?.n ?? 0)))
      .catch(() => undefined);
  };
  const heldTimer = setInterval(sampleHeld, options.heldSampleMs ?? 15_000);
  heldTimer.unref();
  sampleHeld();

  return {
    drain,
    async stop() {
      stopped = true;
      clearTimeout(lingering);
      clearInterval(timer);
      clearInterval(heldTimer);
      await running?.catch(() => 0);
      clearTimeout(relisten);
      await listener?.end().catch(() => undefined);
      await publisher.close();
    },
  };
}
