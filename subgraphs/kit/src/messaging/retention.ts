import type { MikroORM } from '@mikro-orm/postgresql';
import type { Connection } from 'rabbitmq-client';
import { Counter, Gauge } from 'prom-client';
import { envInt } from '../config.js';
import { leaderLock, startLeaderJob, type LeaderJob, type LeaderLock } from '../leader-lock.js';
import { logger } from '../logger.js';
import { registry } from '../metrics.js';
import { dbSecondsAgo, kysely } from '../persistence/kysely.js';
import { pruneDeadLetters, type ConsumerRef } from './dead-letters.js';
import type { MessagingDb } from './outbox.js';
import { defaultRetryPolicy } from './retry.js';
import { queueName } from './topology.js';

/**
 * Retention of what is needed only for a while (README "Retention"): outbox rows once published,
 * inbox rows past the deduplication horizon, and dead letters too old to be replayed safely. Each
 * table is pruned in small batches (one short DELETE each, rows taken with SKIP LOCKED, so no lock
 * is held for long and live traffic never waits), by the one replica holding the schema's leader
 * lock, every RETENTION_INTERVAL_MS.
 *
 * The deduplication horizon is the promise the inbox keeps: an event delivered again within it
 * (a broker redelivery, a retry from a delay queue, a replay from the dead-letter queue) finds its
 * inbox row and changes nothing. It must outlast the longest window in which a copy of an event can
 * come back: the broker's retry horizon (CONSUMER_RETRY_HORIZON_MS), and the replay tool, which
 * refuses to replay an event older than the horizon (dead-letters.ts, replayDeadLetters); dead
 * letters past it are pruned here, each logged.
 */
export interface RetentionPolicy {
  /** OUTBOX_RETENTION_HOURS: how long a published outbox row is kept (for inspection). */
  outboxHours: number;
  /** INBOX_DEDUP_HORIZON_HOURS: how long an inbox row is kept, i.e. how long an event is deduplicated. */
  inboxHours: number;
  /** RETENTION_BATCH_SIZE: rows per DELETE. */
  batchSize: number;
  /** RETENTION_MAX_BATCHES: batches per table and pass; the rest waits for the next pass (and is counted). */
  maxBatches: number;
}

/** The retention settings, checked: a horizon that does not outlast the broker's retries is refused. */
export function retentionPolicy(): RetentionPolicy {
  const policy = {
    outboxHours: envInt('OUTBOX_RETENTION_HOURS', 24),
    inboxHours: envInt('INBOX_DEDUP_HORIZON_HOURS', 168),
    batchSize: envInt('RETENTION_BATCH_SIZE', 1000),
    maxBatches: envInt('RETENTION_MAX_BATCHES', 100),
  };
  if (policy.outboxHours < 1) throw new Error(`OUTBOX_RETENTION_HOURS must be at least 1, got ${policy.outboxHours}`);
  if (policy.batchSize < 1 || policy.batchSize > 50_000) throw new Error(`RETENTION_BATCH_SIZE must be from 1 to 50000, got ${policy.batchSize}`);
  if (policy.maxBatches < 1) throw new Error(`RETENTION_MAX_BATCHES must be at least 1, got ${policy.maxBatches}`);
  const retryHours = defaultRetryPolicy().horizonMs / 3_600_000;
  if (policy.inboxHours < 24 || policy.inboxHours < 2 * retryHours) {
    throw new Error(
      `INBOX_DEDUP_HORIZON_HOURS must be at least 24 and at least twice the retry horizon (CONSUMER_RETRY_HORIZON_MS = ${retryHours} h), got ${policy.inboxHours}`,
    );
  }
  return policy;
}

const pruned = new Counter({
  name: 'retention_pruned_total',
  help: 'Rows (and dead letters) removed by retention, by schema and table',
  labelNames: ['schema', 'table'] as const,
  registers: [registry],
});
const waiting = new Gauge({
  name: 'retention_waiting',
  help: 'Rows past their retention still waiting to be pruned after the last pass (alert when it keeps growing)',
  labelNames: ['schema', 'table'] as const,
  registers: [registry],
});
const kept = new Gauge({
  name: 'retention_rows',
  help: 'Rows the table holds after the last retention pass (the bound pruning keeps it under)',
  labelNames: ['schema', 'table'] as const,
  registers: [registry],
});

/**
 * Records a pass of a retention that lives elsewhere (the key tables of partitioned tables,
 * persistence/key-retention.ts) under the same metrics: rows it pruned, rows past retention left.
 */
export function recordRetention(schema: string, table: string, prunedRows: number, waitingRows: number): void {
  pruned.inc({ schema, table }, prunedRows);
  waiting.set({ schema, table }, waitingRows);
}

export type RetainedTable = 'outbox' | 'inbox';

/** One batch: deletes at most batchSize rows past their retention; answers how many it deleted. */
async function pruneBatch(orm: MikroORM, table: RetainedTable, policy: RetentionPolicy): Promise<number> {
  const db = kysely<MessagingDb>(orm.em.fork());
  const result =
    table === 'outbox'
      ? await db
          .deleteFrom('outbox')
          .where('event_id', 'in', (eb) =>
            eb
              .selectFrom('outbox')
              .select('event_id')
              .where('published_at', '<', dbSecondsAgo(policy.outboxHours * 3600))
              .limit(policy.batchSize)
              .forUpdate()
              .skipLocked(),
          )
          .executeTakeFirst()
      : await db
          .deleteFrom('inbox')
          .where((eb) =>
            eb(
              eb.refTuple('consumer', 'event_id'),
              'in',
              eb
                .selectFrom('inbox')
                .select(['consumer', 'event_id'])
                .where('processed_at', '<', dbSecondsAgo(policy.inboxHours * 3600))
                .limit(policy.batchSize)
                .forUpdate()
                .skipLocked()
                .$asTuple('consumer', 'event_id'),
            ),
          )
          .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Rows past retention (counted up to a cap, so the count stays cheap however far behind it is) and rows held. */
async function measure(orm: MikroORM, table: RetainedTable, policy: RetentionPolicy): Promise<{ waiting: number; rows: number }> {
  const db = kysely<MessagingDb>(orm.em.fork());
  const cap = policy.batchSize * policy.maxBatches * 10;
  const past =
    table === 'outbox'
      ? db
          .selectFrom('outbox')
          .select('event_id')
          .where('published_at', '<', dbSecondsAgo(policy.outboxHours * 3600))
          .limit(cap)
      : db
          .selectFrom('inbox')
          .select('event_id')
          .where('processed_at', '<', dbSecondsAgo(policy.inboxHours * 3600))
          .limit(cap);
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom(past.as('p'))
        .select((e) => e.fn.countAll<string>().as('n'))
        .as('waiting'),
      eb
        .selectFrom(table)
        .select((e) => e.fn.countAll<string>().as('n'))
        .as('rows'),
    ])
    .executeTakeFirstOrThrow();
  return { waiting: Number(row.waiting), rows: Number(row.rows) };
}

export interface RetentionPass {
  outbox: number;
  inbox: number;
  deadLetters: number;
}

/**
 * One retention pass over a schema: for each table, batches until a batch comes back short or
 * maxBatches ran; then the gauges. Dead letters of `deadLetters` (this service's consumers) past
 * the deduplication horizon are pruned when a broker connection is given.
 */
export async function pruneOnce(
  orm: MikroORM,
  schema: string,
  policy: RetentionPolicy = retentionPolicy(),
  deadLetters?: { connection: Connection; queues: readonly ConsumerRef[] },
): Promise<RetentionPass> {
  const pass: RetentionPass = { outbox: 0, inbox: 0, deadLetters: 0 };
  for (const table of ['outbox', 'inbox'] as const) {
    for (let batch = 0; batch < policy.maxBatches; batch++) {
      const n = await pruneBatch(orm, table, policy);
      pass[table] += n;
      if (n < policy.batchSize) break;
    }
    pruned.inc({ schema, table }, pass[table]);
    const state = await measure(orm, table, policy);
    waiting.set({ schema, table }, state.waiting);
    kept.set({ schema, table }, state.rows);
  }
  if (deadLetters && deadLetters.connection.ready) {
    for (const ref of deadLetters.queues) {
      const n = await pruneDeadLetters(deadLetters.connection, queueName(ref.service, ref.name), policy.inboxHours * 3_600_000);
      pass.deadLetters += n;
      pruned.inc({ schema, table: `dlq:${ref.service}.${ref.name}` }, n);
    }
  }
  if (pass.outbox + pass.inbox + pass.deadLetters > 0) logger.info({ schema, ...pass }, 'retention pruned');
  return pass;
}

/** The retention schedule: its tick prunes when this replica leads and answers the pass, or null when another replica leads. */
export type RetentionJob = LeaderJob<RetentionPass>;

/**
 * Runs pruneOnce every RETENTION_INTERVAL_MS (default 5 minutes) on the replica that holds the
 * leader lock `retention:<schema>`; the others only try to take the lock.
 */
export function startRetention(options: {
  orm: MikroORM;
  schema: string;
  deadLetters?: { connection: Connection; queues: readonly ConsumerRef[] };
  lock?: LeaderLock;
  intervalMs?: number;
  policy?: RetentionPolicy;
}): RetentionJob {
  const policy = options.policy ?? retentionPolicy();
  return startLeaderJob({
    lock: options.lock ?? leaderLock(`retention:${options.schema}`),
    intervalMs: options.intervalMs ?? envInt('RETENTION_INTERVAL_MS', 300_000),
    run: () => pruneOnce(options.orm, options.schema, policy, options.deadLetters),
    onError: (err: unknown) => logger.warn({ err, schema: options.schema }, 'retention pass failed; will retry'),
  });
}
