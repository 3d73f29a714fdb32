import {
  CONSUMER_QUEUES,
  DeadLetterError,
  consumerId,
  discardDeadLetters,
  listDeadLetterQueues,
  peekDeadLetters,
  queueName,
  replayDeadLetters,
  type ConsumerRef,
  type DeadLetter,
  type connectBroker,
} from '@shop/kit';

type Connection = ReturnType<typeof connectBroker>;

/**
 * The dead-letter queue commands behind `npm run dlq -- <command>` (seed §11.2: dead-lettered events
 * are compensated by hand). Replay sends events back through their consumer, whose inbox makes a
 * replay safe to repeat.
 */
export const USAGE = `usage: npm run dlq -- <command>
  list                                             dead-lettered messages per consumer
  show <service.consumer> [--limit N]              the first N dead letters (default 10), left in place
  replay <service.consumer> (--event <id>... | --all)  back to the consumer queue, acked after the broker confirmed;
                                                   events older than INBOX_DEDUP_HORIZON_HOURS are refused (kept)
  discard <service.consumer> --event <id>...       removes the named events for good`;

export interface CliIo {
  connection: Connection;
  /** Known consumers; CONSUMER_QUEUES unless a test names its own. */
  consumers?: readonly ConsumerRef[];
  out?: (line: string) => void;
  err?: (line: string) => void;
}

class UsageError extends Error {}

interface Parsed {
  command: string;
  target?: string;
  events: string[];
  all: boolean;
  limit: number;
}

function parse(argv: readonly string[]): Parsed {
  const [command, ...rest] = argv;
  if (!command) throw new UsageError('name a command');
  const parsed: Parsed = { command, events: [], all: false, limit: 10 };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const value = () => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--event') parsed.events.push(value());
    else if (arg === '--all') parsed.all = true;
    else if (arg === '--limit') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
      parsed.limit = n;
    } else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    else if (parsed.target === undefined) parsed.target = arg;
    else throw new UsageError(`unexpected argument ${arg}`);
  }
  return parsed;
}

function resolveQueue(target: string | undefined, consumers: readonly ConsumerRef[]): string {
  const known = consumers.map(consumerId);
  if (!target) throw new UsageError(`name a consumer: one of ${known.join(', ')}`);
  const ref = consumers.find((c) => consumerId(c) === target);
  if (!ref) throw new UsageError(`unknown consumer "${target}": known consumers are ${known.join(', ')}`);
  return queueName(ref.service, ref.name);
}

const json = (value: unknown): string => JSON.stringify(value, null, 2);

export function formatDeadLetter(d: DeadLetter, index: number): string {
  return [
    `#${index + 1} ${d.eventId ?? '(no event id)'}`,
    `  type:         ${d.type ?? '-'}`,
    `  occurredAt:   ${d.occurredAt ?? '-'}`,
    `  aggregateId:  ${d.aggregateId ?? '-'}`,
    `  deliveries:   dead-lettered ${d.deadLetterCount} time(s), replayed ${d.replays} time(s)`,
    `  first death:  ${d.reason ?? '-'}${d.deadLetteredAt ? ` at ${d.deadLetteredAt}` : ''}`,
    `  payload:      ${json(d.payload).replace(/\n/g, '\n  ')}`,
  ].join('\n');
}

/** Runs one command; resolves with the process exit code (0 ok, 1 failed, 2 bad usage). */
export async function runDlqCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const consumers = io.consumers ?? CONSUMER_QUEUES;
  const out = io.out ?? ((line: string) => console.log(line));
  const err = io.err ?? ((line: string) => console.error(line));
  try {
    const args = parse(argv);
    switch (args.command) {
      case 'list': {
        const states = await listDeadLetterQueues(io.connection, consumers);
        const width = Math.max(...states.map((s) => s.consumer.length));
        for (const s of states)
          out(`${s.consumer.padEnd(width)}  ${s.messages === null ? 'no DLQ yet (consumer never started)' : `${s.messages} message(s)`}  ${s.dlq}`);
        return 0;
      }
      case 'show': {
        const queue = resolveQueue(args.target, consumers);
        const letters = await peekDeadLetters(io.connection, queue, args.limit);
        if (letters.length === 0) out(`${args.target}: the dead-letter queue is empty`);
        letters.forEach((d, i) => out(formatDeadLetter(d, i)));
        return 0;
      }
      case 'replay': {
        const queue = resolveQueue(args.target, consumers);
        if (!args.all && args.events.length === 0) throw new UsageError('replay needs --event <id> (repeatable) or --all');
        if (args.all && args.events.length > 0) throw new UsageError('give either --event or --all, not both');
        const result = await replayDeadLetters(io.connection, queue, {
          ...(args.all ? { all: true } : { eventIds: args.events }),
          onProgress: (done, total) => out(`replayed ${done}/${total}`),
        });
        out(`${args.target}: replayed ${result.replayed}, left in the DLQ ${result.kept}`);
        if (result.missing.length) err(`not in the dead-letter queue: ${result.missing.join(', ')}`);
        if (result.tooOld.length)
          err(
            `not replayed, older than the deduplication horizon (INBOX_DEDUP_HORIZON_HOURS; the inbox may have forgotten them, so a replay could apply them twice): ${result.tooOld.join(', ')}`,
          );
        return result.missing.length || result.tooOld.length ? 1 : 0;
      }
      case 'discard': {
        const queue = resolveQueue(args.target, consumers);
        if (args.all) throw new UsageError('discard removes named events only: use --event <id>');
        if (args.events.length === 0) throw new UsageError('discard needs --event <id> (repeatable)');
        const result = await discardDeadLetters(io.connection, queue, { eventIds: args.events });
        out(`${args.target}: discarded ${result.discarded}`);
        if (result.missing.length) err(`not in the dead-letter queue: ${result.missing.join(', ')}`);
        return result.missing.length ? 1 : 0;
      }
      default:
        throw new UsageError(`unknown command "${args.command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      err(`${error.message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof DeadLetterError) {
      err(error.message);
      return 1;
    }
    throw error;
  }
}
