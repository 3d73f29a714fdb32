import { Arg, Ctx, Field, FieldResolver, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { Connection } from 'rabbitmq-client';
import type { SubgraphContext } from '../context.js';
import { DomainError, ErrorCode, badInput } from '../errors.js';
import { requireAdmin } from '../identity.js';
import { logger } from '../logger.js';
import {
  CONSUMER_QUEUES,
  DeadLetterError,
  consumerId,
  discardDeadLetters,
  listDeadLetterQueues,
  peekDeadLetters,
  replayDeadLetters,
  type ConsumerRef,
  type DeadLetter as DeadLetterView,
} from './dead-letters.js';
import { queueName } from './topology.js';

/**
 * Dead letters for the operations console: the same operations as `npm run dlq` (dead-letters.ts),
 * as admin-only GraphQL. They act on the broker, not on a subgraph's data, so ONE subgraph mounts
 * this resolver for every consumer in CONSUMER_QUEUES (the fulfillment subgraph does) and hands it
 * its broker connection at start with `deadLetterBroker.use(connection)`.
 */
export const deadLetterBroker: { connection?: Connection; use(connection: Connection): void } = {
  use(connection) {
    this.connection = connection;
  },
};

const MAX_PEEK = 50;

function broker(): Connection {
  if (!deadLetterBroker.connection) throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'the message broker is not connected');
  return deadLetterBroker.connection;
}

function consumer(id: string): ConsumerRef {
  const ref = CONSUMER_QUEUES.find((q) => consumerId(q) === id);
  if (!ref) throw badInput(`consumer must be one of ${CONSUMER_QUEUES.map(consumerId).join(', ')}`, { field: 'consumer' });
  return ref;
}

/** Errors of the tooling (no such queue, nothing selected) are the operator's to fix: BAD_USER_INPUT. */
async function operatorCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DeadLetterError) throw badInput(error.message);
    throw error;
  }
}

@ObjectType('DeadLetter', { description: 'a message its consumer kept failing on (or could not read), parked in the consumer queue\'s ".dlq"' })
export class DeadLetterMessage {
  @Field(() => String, { nullable: true })
  eventId!: string | null;

  @Field(() => String, { nullable: true })
  type!: string | null;

  @Field(() => String, { nullable: true })
  occurredAt!: string | null;

  @Field(() => String, { nullable: true })
  aggregateId!: string | null;

  @Field(() => String, { nullable: true })
  correlationId!: string | null;

  @Field(() => String, { nullable: true, description: '"delivery_limit" (the handler kept failing) or "rejected" (not a valid event)' })
  reason!: string | null;

  @Field(() => String, { nullable: true })
  deadLetteredAt!: string | null;

  @Field(() => Int)
  deadLetterCount!: number;

  @Field(() => Int)
  replays!: number;

  @Field(() => String, { description: 'the event payload as JSON' })
  payload!: string;
}

@ObjectType()
export class DeadLetterQueue {
  @Field(() => String, { description: '"<service>.<consumer>", e.g. "order.saga"' })
  consumer!: string;

  @Field(() => String)
  queue!: string;

  @Field(() => String)
  dlq!: string;

  @Field(() => Int, { nullable: true, description: 'messages waiting; null when the queue does not exist on this broker' })
  messages!: number | null;
}

@ObjectType()
export class DeadLetterReplay {
  @Field(() => Int)
  replayed!: number;

  @Field(() => Int, { description: 'messages left in the dead-letter queue (not asked for)' })
  kept!: number;

  @Field(() => [String], { description: 'event ids asked for that were not in the queue' })
  missing!: string[];

  @Field(() => [String], { description: 'event ids left in the queue: older than the deduplication horizon (INBOX_DEDUP_HORIZON_HOURS), not safe to replay' })
  tooOld!: string[];
}

@ObjectType()
export class DeadLetterDiscard {
  @Field(() => Int)
  discarded!: number;

  @Field(() => [String])
  missing!: string[];
}

const toDeadLetter = (d: DeadLetterView): DeadLetterMessage => Object.assign(new DeadLetterMessage(), { ...d, payload: JSON.stringify(d.payload ?? null) });

@Resolver(() => DeadLetterQueue)
export class DeadLetterResolver {
  @Query(() => [DeadLetterQueue], { description: "admin only: every consumer's dead-letter queue and its depth" })
  async deadLetterQueues(@Ctx() ctx: SubgraphContext): Promise<DeadLetterQueue[]> {
    requireAdmin(ctx);
    return (await listDeadLetterQueues(broker())).map((q) => Object.assign(new DeadLetterQueue(), q));
  }

  @FieldResolver(() => [DeadLetterMessage], { description: 'the first messages of the queue, left in place (admin only)' })
  async letters(
    @Root() queue: DeadLetterQueue,
    @Ctx() ctx: SubgraphContext,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 10 }) limit: number | null,
  ): Promise<DeadLetterMessage[]> {
    requireAdmin(ctx);
    const n = limit ?? 10;
    if (!Number.isInteger(n) || n < 1 || n > MAX_PEEK) throw badInput(`limit must be 1..${MAX_PEEK}`, { field: 'limit' });
    if (queue.messages === null || queue.messages === 0) return [];
    return (await operatorCall(() => peekDeadLetters(broker(), queue.queue, n))).map(toDeadLetter);
  }

  @Mutation(() => DeadLetterReplay, { description: 'admin only: sends dead letters back to their consumer (its inbox makes a replay safe to repeat)' })
  async replayDeadLetters(
    @Ctx() ctx: SubgraphContext,
    @Arg('consumer', () => String) consumerName: string,
    @Arg('eventIds', () => [String], { nullable: true }) eventIds?: string[] | null,
    @Arg('all', () => Boolean, { nullable: true, defaultValue: false }) all?: boolean | null,
  ): Promise<DeadLetterReplay> {
    const admin = requireAdmin(ctx);
    const ref = consumer(consumerName);
    const result = await operatorCall(() => replayDeadLetters(broker(), queueName(ref.service, ref.name), { eventIds: eventIds ?? [], all: all ?? false }));
    logger.info({ consumer: consumerName, by: admin.userId, ...result }, 'dead letters replayed by an operator');
    return Object.assign(new DeadLetterReplay(), result);
  }

  @Mutation(() => DeadLetterDiscard, { description: 'admin only: removes the named dead letters for good' })
  async discardDeadLetters(
    @Ctx() ctx: SubgraphContext,
    @Arg('consumer', () => String) consumerName: string,
    @Arg('eventIds', () => [String]) eventIds: string[],
  ): Promise<DeadLetterDiscard> {
    const admin = requireAdmin(ctx);
    const ref = consumer(consumerName);
    const result = await operatorCall(() => discardDeadLetters(broker(), queueName(ref.service, ref.name), { eventIds }));
    logger.warn({ consumer: consumerName, by: admin.userId, ...result }, 'dead letters discarded by an operator');
    return Object.assign(new DeadLetterDiscard(), result);
  }
}
