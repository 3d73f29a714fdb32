import pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Connection, Publisher } from 'rabbitmq-client';
import { databaseUrl } from '../config.js';
import { logger } from '../logger.js';
import { eventsExchange } from './topology.js';
import { kysely, dbClock } from '../persistence/kysely.js';
import type { MessagingDb } from './outbox.js';
import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics.js';

const published = new Counter({ name: 'outbox_published_total', help: 'Events published by the outbox relay', registers: [registry] });
const backlog = new Gauge({ name: 'outbox_backlog', help: 'Unpublished outbox rows seen by the last relay pass', registers: [registry] });

export interface RelayOptions {
  orm: MikroORM;
  connection: Connection;
  /** The subgraph's schema: the relay listens on its outbox notifications. */
  schema: string;
  batchSize?: number;
  /** Fallback poll interval; new rows normally wake the relay at once through LISTEN/NOTIFY. */
  pollMs?: number;
  /** Fault-injection point for tests: runs after the broker confirmed a batch, before it is marked sent. */
  afterPublish?: (eventIds: string[]) => Promise<void> | void;
}

export interface OutboxRelay {
  /** Publishes what is pending now; resolves with the number of events published. */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Publishes outbox rows with publisher confirms, then marks them sent, in one transaction that
 * holds the rows with FOR UPDATE SKIP LOCKED. Several relays (one per process) share the work
 * without publishing a row twice at once, and none skips a row: there is no "id > last seen"
 * high-water mark that a late-committing transaction could slip under. A crash between publish and
 * commit leaves the rows unpublished, so they go out again: delivery is at least once and
 * consumers deduplicate by eventId.
 */
export function startOutboxRelay(options: RelayOptions): OutboxRelay {
  const batchSize = options.batchSize ?? 200;
  const publisher: Publisher = options.connection.createPublisher({
    confirm: true,
    maxAttempts: 3,
    exchanges: [{ exchange: eventsExchange(), type: 'topic', durable: true }],
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
        .select(['event_id', 'routing_key', 'type', 'body'])
        .where('published_at', 'is', null)
        .orderBy('created_at')
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      backlog.set(rows.length);
      if (rows.length === 0) return 0;
      await Promise.all(
        rows.map((row) =>
          publisher.send(
            {
              exchange: eventsExchange(),
              routingKey: row.routing_key,
              messageId: row.event_id,
              type: row.type,
              contentType: 'application/json',
              durable: true,
            },
            row.body,
          ),
        ),
      );
      const ids = rows.map((r) => r.event_id);
      await options.afterPublish?.(ids);
      await outbox
        .updateTable('outbox')
        .set((eb) => ({ published_at: dbClock(), attempts: eb('attempts', '+', 1) }))
        .where('event_id', 'in', ids)
        .execute();
      published.inc(rows.length);
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

  const kick = () => {
    if (stopped) return;
    drain().catch((err: unknown) => logger.warn({ err }, 'outbox relay pass failed; will retry'));
  };

  // LISTEN on a dedicated connection: an insert into the outbox wakes the relay immediately.
  const listener = new pg.Client({ connectionString: databaseUrl() });
  const channel = `outbox_${options.schema}`;
  listener.on('notification', kick);
  listener.on('error', (err) => logger.warn({ err }, 'outbox listener error; falling back to polling'));
  listener
    .connect()
    .then(() => listener.query(`LISTEN "${channel}"`)) // SQL string: LISTEN is a session command on a dedicated pg connection
    .catch((err: unknown) => logger.warn({ err }, 'outbox listener could not connect; polling only'));
  const timer = setInterval(kick, options.pollMs ?? 1000);
  kick();

  return {
    drain,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => 0);
      await listener.end().catch(() => undefined);
      await publisher.close();
    },
  };
}
