import type { Connection, Publisher, AsyncMessage } from 'rabbitmq-client';
import { envInt } from '../config.js';
import { deadLetterQueue, testQueueExpiry } from './topology.js';

/**
 * Broker-held retries. A message whose handler failed is not slept on or requeued: a copy goes to a
 * delay queue "<queue>.retry.<ms>" (a classic queue with x-message-ttl, no consumer), which
 * dead-letters it back to the work queue through the default exchange when the time is up. Each
 * failure takes the next, longer delay (the last repeats) until the message has been failing for
 * the horizon; only then, or when it is not a valid event, does it go to "<queue>.dlq", with the
 * reason in its headers. A downstream outage shorter than the horizon parks nothing.
 */
export interface RetryPolicy {
  /** Delays between attempts, growing; the last one repeats. */
  delaysMs: readonly number[];
  /** How long a message may keep failing before it is dead-lettered (past_horizon). */
  horizonMs: number;
}

export const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 300_000] as const;

/** CONSUMER_RETRY_HORIZON_MS (default 30 minutes) and the default delays. */
export const defaultRetryPolicy = (): RetryPolicy => ({
  delaysMs: DEFAULT_RETRY_DELAYS_MS,
  horizonMs: envInt('CONSUMER_RETRY_HORIZON_MS', 30 * 60_000),
});

/** Headers the consumer keeps on a message across its retries (a replay from the DLQ starts clean). */
export const RETRY_HEADERS = {
  attempt: 'x-shop-attempt',
  firstFailureAt: 'x-shop-first-failure-at',
  lastError: 'x-shop-last-error',
  deathReason: 'x-shop-death-reason',
  deadLetteredAt: 'x-shop-dead-lettered-at',
} as const;

export type DeathReason = 'invalid' | 'past_horizon';

export const delayQueue = (queue: string, delayMs: number): string => `${queue}.retry.${delayMs}`;

/** Declares the delay queues of a work queue: each expires its messages back into the work queue. */
export async function declareDelayQueues(connection: Connection, queue: string, policy: RetryPolicy): Promise<void> {
  for (const delayMs of new Set(policy.delaysMs)) {
    await connection.queueDeclare({
      queue: delayQueue(queue, delayMs),
      durable: true,
      arguments: { 'x-message-ttl': delayMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue, ...testQueueExpiry() },
    });
  }
}

const encode = (body: unknown): Buffer => (Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8'));

/** The properties of a message worth keeping on its copy. */
function copyOf(msg: AsyncMessage, routingKey: string, headers: Record<string, unknown>) {
  const { ['x-delivery-count']: _count, ['x-death']: _death, ...kept } = (msg.headers ?? {}) as Record<string, unknown>;
  return {
    exchange: '',
    routingKey,
    durable: true,
    mandatory: true,
    headers: { ...kept, ...headers },
    ...(msg.messageId !== undefined && { messageId: msg.messageId }),
    ...(msg.type !== undefined && { type: msg.type }),
    ...(msg.contentType !== undefined && { contentType: msg.contentType }),
    ...(msg.correlationId !== undefined && { correlationId: msg.correlationId }),
    ...(msg.timestamp !== undefined && { timestamp: msg.timestamp }),
  };
}

export type RetryDecision = { kind: 'retry'; delayMs: number; attempt: number } | { kind: 'dead_letter'; reason: DeathReason };

/** What to do with a failed message: the next delay, or past the horizon. */
export function decideRetry(msg: AsyncMessage, policy: RetryPolicy, now = Date.now()): RetryDecision & { firstFailureAt: number } {
  const attempt = Number(msg.headers?.[RETRY_HEADERS.attempt] ?? 0) || 0;
  const first = Number(msg.headers?.[RETRY_HEADERS.firstFailureAt] ?? now) || now;
  if (now - first >= policy.horizonMs) return { kind: 'dead_letter', reason: 'past_horizon', firstFailureAt: first };
  const delayMs = policy.delaysMs[Math.min(attempt, policy.delaysMs.length - 1)]!;
  return { kind: 'retry', delayMs, attempt: attempt + 1, firstFailureAt: first };
}

/** Sends the message to its delay queue and resolves once the broker confirmed the copy. */
export function sendToRetry(
  publisher: Publisher,
  queue: string,
  msg: AsyncMessage,
  decision: { delayMs: number; attempt: number; firstFailureAt: number },
  error: string,
) {
  return publisher.send(
    copyOf(msg, delayQueue(queue, decision.delayMs), {
      [RETRY_HEADERS.attempt]: decision.attempt,
      [RETRY_HEADERS.firstFailureAt]: decision.firstFailureAt,
      [RETRY_HEADERS.lastError]: error.slice(0, 500),
    }),
    encode(msg.body),
  );
}

/** Sends the message to the DLQ with the reason, and resolves once the broker confirmed it. */
export function sendToDeadLetters(publisher: Publisher, queue: string, msg: AsyncMessage, reason: DeathReason, error: string) {
  return publisher.send(
    copyOf(msg, deadLetterQueue(queue), {
      [RETRY_HEADERS.deathReason]: reason,
      [RETRY_HEADERS.deadLetteredAt]: Date.now(),
      [RETRY_HEADERS.lastError]: error.slice(0, 500),
    }),
    encode(msg.body),
  );
}
