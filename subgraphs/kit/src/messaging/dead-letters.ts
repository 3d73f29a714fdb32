import { randomUUID } from 'node:crypto';
import type { Channel, Connection, ReturnedMessage, SyncMessage } from 'rabbitmq-client';
import { Gauge } from 'prom-client';
import { envInt } from '../config.js';
import { logger } from '../logger.js';
import { registry } from '../metrics.js';
import { deadLetterQueue, queueName } from './topology.js';
import { RETRY_HEADERS } from './retry.js';

/**
 * Operator tooling for dead-lettered events (seed §11.2: "DLQ isolates bad events for manual
 * compensation"). A consumer's queue "<service>.<name>" dead-letters to "<service>.<name>.dlq" once a
 * message exhausted its deliveries (or was not a valid event). These functions count, inspect,
 * replay and discard those messages without ever losing one:
 *
 * - Reading is non-destructive: messages are fetched with basic.get on a private channel WITHOUT
 *   acking, and the channel is closed at the end, which returns every unacked message to the DLQ.
 *   The broker counts those returns in the DLQ's own x-delivery-count header (the DLQ has no delivery
 *   limit, so nothing is dropped), and returned messages may change their order in the DLQ.
 * - Replay republishes a message to the ORIGINAL consumer queue (default exchange, routing key =
 *   queue name, mandatory) on a confirm channel, and acks the DLQ copy only after the broker confirmed
 *   the new one. A crash in between leaves both copies: the consumer's inbox deduplicates by eventId,
 *   so a replayed event is applied at most once however often it is replayed.
 * - An operation reads the DLQ until basic.get finds nothing ready. Everything it read and did not
 *   ack stays held by its channel until the end, so each message is looked at once; a message this
 *   very replay sent back that fails again and returns is recognised by its replay id and kept, so
 *   a replay never loops. A message that a concurrent peek holds at that moment is not seen (and is
 *   reported as missing when it was asked for by id): run the command again.
 */

/** A consumer of the system: its queue is queueName(service, name). */
export interface ConsumerRef {
  service: string;
  name: string;
}

/**
 * Every consumer started with startConsumer() in the subgraphs. The dlq CLI resolves
 * "<service>.<name>" against this list, and each subgraph samples its own entries into dlq_backlog.
 * A new consumer is added here.
 */
export const CONSUMER_QUEUES: readonly ConsumerRef[] = [
  { service: 'order', name: 'saga' },
  { service: 'order', name: 'prices' },
  { service: 'inventory', name: 'saga' },
  { service: 'payment', name: 'order-events' },
  { service: 'fulfillment', name: 'stock-events' },
];

export const consumerId = (ref: ConsumerRef): string => `${ref.service}.${ref.name}`;

/** Headers the broker (and the consumer's retries) add when it dead-letters or redelivers; a replayed message starts clean. */
const BROKER_HEADERS = [
  ...Object.values(RETRY_HEADERS),
  'x-death',
  'x-delivery-count',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
];
/** How many times the tooling replayed a message (kept across replays). */
export const REPLAYS_HEADER = 'x-shop-replays';
/** Identifies one replay run and message; used to match broker returns and to skip a message replayed by this very run. */
const REPLAY_ID_HEADER = 'x-shop-replay-id';

export class DeadLetterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadLetterError';
  }
}

export interface DeadLetterQueueState {
  /** "<service>.<name>" */
  consumer: string;
  queue: string;
  dlq: string;
  /** Messages waiting in the DLQ; null when the DLQ does not exist (the consumer never started on this broker). */
  messages: number | null;
}

export interface DeadLetter {
  /** The event id (AMQP message id, else the body's eventId); null for a body that is not an event. */
  eventId: string | null;
  type: string | null;
  occurredAt: string | null;
  aggregateId: string | null;
  correlationId: string | null;
  /**
   * Why it was dead-lettered: "past_horizon" (the handler kept failing for the retry horizon),
   * "invalid" (not a valid event), or the broker's "delivery_limit" (the message crashed its
   * consumer maxDeliveries times) / "rejected".
   */
  reason: string | null;
  /** The handler's last error, when the consumer dead-lettered it. */
  lastError: string | null;
  deadLetteredAt: string | null;
  /**
   * How many times the message reached a DLQ, counting earlier replays that failed again. The
   * broker does not keep the consumer's own delivery count on a dead-lettered message; with reason
   * "delivery_limit" each dead-lettering means the consumer's maxDeliveries attempts all failed.
   */
  deadLetterCount: number;
  /** Times the tooling replayed it before. */
  replays: number;
  payload: unknown;
  /** The whole message body as it was published. */
  body: unknown;
}

const isNotFound = (error: unknown): boolean => (error as { code?: string } | undefined)?.code === 'NOT_FOUND';

/**
 * Messages ready in a queue, or null when the queue does not exist. The passive declare runs on a
 * channel of its own: NOT_FOUND closes the channel it ran on, which must not be one that others share.
 */
async function depth(connection: Connection, queue: string): Promise<number | null> {
  const ch = await connection.acquire();
  try {
    return (await ch.queueDeclare({ queue, passive: true })).messageCount;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  } finally {
    if (ch.active) await ch.close().catch(() => undefined);
  }
}

async function requireDepth(connection: Connection, queue: string): Promise<number> {
  const n = await depth(connection, deadLetterQueue(queue));
  if (n === null) throw new DeadLetterError(`there is no dead-letter queue ${deadLetterQueue(queue)}: its consumer never started on this broker`);
  return n;
}

/** The DLQ depth of each consumer. */
export async function listDeadLetterQueues(connection: Connection, queues: readonly ConsumerRef[] = CONSUMER_QUEUES): Promise<DeadLetterQueueState[]> {
  const states: DeadLetterQueueState[] = [];
  for (const ref of queues) {
    const queue = queueName(ref.service, ref.name);
    states.push({ consumer: consumerId(ref), queue, dlq: deadLetterQueue(queue), messages: await depth(connection, deadLetterQueue(queue)) });
  }
  return states;
}

const bodyObject = (body: unknown): Record<string, unknown> | undefined => {
  if (body && typeof body === 'object' && !Buffer.isBuffer(body)) return body as Record<string, unknown>;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    try {
      const parsed: unknown = JSON.parse(body.toString());
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
};
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The event id of a dead-lettered message: its AMQP message id, else the body's eventId. */
export const eventIdOf = (msg: SyncMessage): string | null => msg.messageId ?? str(bodyObject(msg.body)?.eventId);

type Death = { count?: number; reason?: string; time?: number | Date };
const deathsOf = (msg: SyncMessage): Death[] => (Array.isArray(msg.headers?.['x-death']) ? (msg.headers['x-death'] as Death[]) : []);
const replaysOf = (msg: SyncMessage): number => Number(msg.headers?.[REPLAYS_HEADER] ?? 0) || 0;

const ourDeathAt = (msg: SyncMessage): string | null => {
  const at = Number(msg.headers?.[RETRY_HEADERS.deadLetteredAt]);
  return Number.isFinite(at) && at > 0 ? new Date(at).toISOString() : null;
};

/** A readable view of a dead-lettered message. */
export function describeDeadLetter(msg: SyncMessage): DeadLetter {
  const body = bodyObject(msg.body);
  const deaths = deathsOf(msg);
  const first = deaths[deaths.length - 1];
  const time = first?.time;
  return {
    eventId: eventIdOf(msg),
    type: msg.type ?? str(body?.type),
    occurredAt: str(body?.occurredAt),
    aggregateId: str(body?.aggregateId),
    correlationId: str(body?.correlationId) ?? msg.correlationId ?? null,
    reason: str(msg.headers?.[RETRY_HEADERS.deathReason]) ?? str(msg.headers?.['x-first-death-reason']) ?? first?.reason ?? null,
    lastError: str(msg.headers?.[RETRY_HEADERS.lastError]),
    deadLetteredAt: ourDeathAt(msg) ?? (time === undefined ? null : new Date(typeof time === 'number' ? time * 1000 : time).toISOString()),
    deadLetterCount: deaths.reduce((n, d) => n + (Number(d.count) || 0), 0) + (msg.headers?.[RETRY_HEADERS.deathReason] ? 1 : 0) + replaysOf(msg),
    replays: replaysOf(msg),
    payload: body && 'payload' in body ? body.payload : (body ?? msg.body),
    body: body ?? msg.body,
  };
}

/**
 * Runs `work` on a private channel and closes it afterwards: whatever `work` fetched and did not ack
 * goes back to its queue. The channel is in confirm mode, and broker returns of mandatory publishes
 * are collected by replay id.
 */
async function withChannel<T>(connection: Connection, work: (ch: Channel, returned: Set<string>) => Promise<T>): Promise<T> {
  const ch = await connection.acquire();
  const returned = new Set<string>();
  ch.on('basic.return', (msg: ReturnedMessage) => {
    const id = msg.headers?.[REPLAY_ID_HEADER];
    if (typeof id === 'string') returned.add(id);
  });
  try {
    await ch.confirmSelect();
    return await work(ch, returned);
  } finally {
    await ch.close().catch((err: unknown) => logger.warn({ err }, 'closing the dead-letter channel failed; the broker requeues its unacked messages'));
  }
}

/** Up to `limit` messages at the head of the DLQ, left in place. */
export async function peekDeadLetters(connection: Connection, queue: string, limit = 10): Promise<DeadLetter[]> {
  await requireDepth(connection, queue);
  return withChannel(connection, async (ch) => {
    const found: DeadLetter[] = [];
    for (let i = 0; i < limit; i++) {
      const msg = await ch.basicGet({ queue: deadLetterQueue(queue) });
      if (!msg) break;
      found.push(describeDeadLetter(msg));
    }
    return found;
  });
}

/**
 * INBOX_DEDUP_HORIZON_HOURS (default 7 days) in milliseconds: how long consumers keep an event's inbox
 * row (retention.ts prunes older ones). An event older than this may have lost its inbox row, so a
 * copy of it could be applied twice: the replay tool refuses it, and retention prunes such dead letters.
 */
export const dedupHorizonMs = (): number => envInt('INBOX_DEDUP_HORIZON_HOURS', 168) * 3_600_000;

/** When the event of a dead letter happened: its occurredAt, else when it was dead-lettered; null when neither is known. */
function eventTime(msg: SyncMessage): number | null {
  const letter = describeDeadLetter(msg);
  const at = Date.parse(letter.occurredAt ?? letter.deadLetteredAt ?? '');
  return Number.isFinite(at) ? at : null;
}

/** Whether a dead letter is past the deduplication horizon (replaying it could apply it twice). */
const pastHorizon = (msg: SyncMessage, horizonMs: number, now = Date.now()): boolean => {
  const at = eventTime(msg);
  return at !== null && now - at > horizonMs;
};

export interface ReplayOptions {
  /** Events older than this are not replayed (they stay in the DLQ and are listed in tooOld); default dedupHorizonMs(). */
  horizonMs?: number;
  /** Replay the messages with these event ids (every copy of each). */
  eventIds?: readonly string[];
  /** Replay every message the DLQ holds when the replay starts. */
  all?: boolean;
  /** Publishes awaiting confirms at once. */
  batchSize?: number;
  /** Called after each confirmed batch with (replayed so far, expected: the DLQ depth at the start for all, else the number of ids). */
  onProgress?: (done: number, total: number) => void;
}

export interface ReplayResult {
  replayed: number;
  /** Messages that stayed in the DLQ because their event id was not asked for (or was replayed already by this run). */
  kept: number;
  /** Requested event ids that were not in the DLQ. */
  missing: string[];
  /** Event ids (or "(no event id)") left in the DLQ because the event is past the deduplication horizon. */
  tooOld: string[];
}

const selection = (options: { eventIds?: readonly string[]; all?: boolean }): ((msg: SyncMessage) => boolean) => {
  if (options.all) {
    if (options.eventIds?.length) throw new DeadLetterError('give either event ids or all, not both');
    return () => true;
  }
  if (!options.eventIds?.length) throw new DeadLetterError('name the events (event ids) or choose all');
  const wanted = new Set(options.eventIds);
  return (msg) => wanted.has(eventIdOf(msg) ?? '');
};

/**
 * Moves dead-lettered messages back to their consumer's queue, through the same idempotent consumer
 * (its inbox deduplicates). Each DLQ message is acked only after the broker confirmed its copy on the
 * consumer queue; a copy the broker could not route (mandatory return) or refused stays in the DLQ
 * and the replay stops with an error.
 */
export async function replayDeadLetters(connection: Connection, queue: string, options: ReplayOptions): Promise<ReplayResult> {
  const selected = selection(options);
  const total = await requireDepth(connection, queue);
  const goal = options.all ? total : (options.eventIds?.length ?? 0);
  if ((await depth(connection, queue)) === null) throw new DeadLetterError(`the consumer queue ${queue} does not exist: start its consumer before replaying`);
  const runId = randomUUID();
  const batchSize = Math.max(1, options.batchSize ?? 50);
  const seen = new Set<string>();
  const horizonMs = options.horizonMs ?? dedupHorizonMs();
  const tooOld: string[] = [];

  return withChannel(connection, async (ch, returned) => {
    let replayed = 0;
    let kept = 0;
    let scanned = 0;
    let exhausted = false;
    while (!exhausted) {
      const batch: SyncMessage[] = [];
      while (batch.length < batchSize) {
        const msg = await ch.basicGet({ queue: deadLetterQueue(queue) });
        if (!msg) {
          exhausted = true;
          break;
        }
        scanned += 1;
        const id = eventIdOf(msg);
        if (id) seen.add(id);
        if (selected(msg) && pastHorizon(msg, horizonMs)) {
          tooOld.push(id ?? '(no event id)');
          kept += 1;
        } else if (selected(msg) && !replayedByThisRun(msg, runId)) batch.push(msg);
        else kept += 1; // stays unacked: back to the DLQ when the channel closes
      }
      if (batch.length === 0) continue;
      const replayIds = batch.map((_, i) => `${runId}:${scanned}:${i}`);
      const outcomes = await Promise.allSettled(batch.map((msg, i) => republish(ch, queue, msg, replayIds[i]!)));
      let failure: string | undefined;
      outcomes.forEach((outcome, i) => {
        const msg = batch[i]!;
        if (outcome.status === 'fulfilled' && !returned.has(replayIds[i]!)) {
          ch.basicAck({ deliveryTag: msg.deliveryTag });
          replayed += 1;
        } else {
          failure ??= outcome.status === 'rejected' ? String(outcome.reason) : `the broker could not route the copy to ${queue}`;
        }
      });
      options.onProgress?.(replayed, Math.max(goal, replayed));
      if (failure) throw new DeadLetterError(`replay stopped after ${replayed} message(s); the rest stay in ${deadLetterQueue(queue)}: ${failure}`);
    }
    return { replayed, kept, missing: (options.eventIds ?? []).filter((id) => !seen.has(id)), tooOld };
  });
}

const replayedByThisRun = (msg: SyncMessage, runId: string): boolean => String(msg.headers?.[REPLAY_ID_HEADER] ?? '').startsWith(`${runId}:`);

function republish(ch: Channel, queue: string, msg: SyncMessage, replayId: string): Promise<void> {
  const headers: Record<string, unknown> = { ...(msg.headers ?? {}) };
  for (const name of BROKER_HEADERS) delete headers[name];
  headers[REPLAYS_HEADER] = replaysOf(msg) + 1;
  headers[REPLAY_ID_HEADER] = replayId;
  // The client decoded a JSON body; encode it again with the original content type.
  const body = Buffer.isBuffer(msg.body) ? msg.body : Buffer.from(typeof msg.body === 'string' ? msg.body : JSON.stringify(msg.body), 'utf8');
  return ch.basicPublish(
    {
      exchange: '',
      routingKey: queue,
      mandatory: true,
      durable: true,
      headers,
      ...(msg.messageId !== undefined && { messageId: msg.messageId }),
      ...(msg.type !== undefined && { type: msg.type }),
      ...(msg.contentType !== undefined && { contentType: msg.contentType }),
      ...(msg.contentEncoding !== undefined && { contentEncoding: msg.contentEncoding }),
      ...(msg.correlationId !== undefined && { correlationId: msg.correlationId }),
      ...(msg.timestamp !== undefined && { timestamp: msg.timestamp }),
      ...(msg.appId !== undefined && { appId: msg.appId }),
    },
    body,
  );
}

export interface DiscardResult {
  discarded: number;
  missing: string[];
}

/** Removes the named events from the DLQ for good (every copy of each); nothing else is touched. */
export async function discardDeadLetters(connection: Connection, queue: string, options: { eventIds: readonly string[] }): Promise<DiscardResult> {
  const selected = selection({ eventIds: options.eventIds });
  await requireDepth(connection, queue);
  return withChannel(connection, async (ch) => {
    const seen = new Set<string>();
    let discarded = 0;
    for (;;) {
      const msg = await ch.basicGet({ queue: deadLetterQueue(queue) });
      if (!msg) break;
      const id = eventIdOf(msg);
      if (id) seen.add(id);
      if (!selected(msg)) continue;
      ch.basicAck({ deliveryTag: msg.deliveryTag });
      discarded += 1;
      logger.warn({ queue, eventId: id, type: msg.type }, 'dead-lettered event discarded by an operator');
    }
    return { discarded, missing: options.eventIds.filter((id) => !seen.has(id)) };
  });
}

/**
 * Retention of dead letters (retention.ts): removes from the DLQ every message whose event is older
 * than `horizonMs` (the deduplication horizon: it can no longer be replayed safely), each logged with
 * its event id; the others stay. Answers how many it removed.
 */
export async function pruneDeadLetters(connection: Connection, queue: string, horizonMs: number): Promise<number> {
  if ((await depth(connection, deadLetterQueue(queue))) === null) return 0;
  return withChannel(connection, async (ch) => {
    let removed = 0;
    for (;;) {
      const msg = await ch.basicGet({ queue: deadLetterQueue(queue) });
      if (!msg) break;
      if (!pastHorizon(msg, horizonMs)) continue;
      ch.basicAck({ deliveryTag: msg.deliveryTag });
      removed += 1;
      logger.warn({ queue, eventId: eventIdOf(msg), type: msg.type, horizonMs }, 'dead letter past the deduplication horizon pruned');
    }
    return removed;
  });
}

const backlog = new Gauge({
  name: 'dlq_backlog',
  help: 'Messages waiting in the dead-letter queue of each consumer (seed §12.3: alert above 10000 for 10 minutes)',
  labelNames: ['consumer'] as const,
  registers: [registry],
});

export interface DeadLetterGauge {
  /** Samples every DLQ now (also what the timer does). */
  sample(): Promise<void>;
  stop(): void;
}

/** Samples the DLQ depth of the given consumers into the dlq_backlog gauge every intervalMs. */
export function startDeadLetterGauge(connection: Connection, queues: readonly ConsumerRef[], intervalMs = 15_000): DeadLetterGauge {
  const sample = async () => {
    for (const state of await listDeadLetterQueues(connection, queues)) {
      if (state.messages === null) backlog.remove({ consumer: state.consumer });
      else backlog.set({ consumer: state.consumer }, state.messages);
    }
  };
  const tick = () => {
    if (connection.ready) sample().catch((err: unknown) => logger.warn({ err }, 'dlq_backlog sample failed'));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return { sample, stop: () => clearInterval(timer) };
}
