import { AsyncResource } from 'node:async_hooks';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Counter } from 'prom-client';
import { logger } from '../logger.js';
import { registry } from '../metrics.js';

const units = new Counter({
  name: 'group_commit_units_total',
  help: 'Units of work committed by a group commit, by how: shared (in a transaction with others), alone, or retried alone after a shared transaction failed',
  labelNames: ['name', 'how'] as const,
  registers: [registry],
});
const transactions = new Counter({
  name: 'group_commit_transactions_total',
  help: 'Transactions a group commit ran (shared and alone)',
  labelNames: ['name'] as const,
  registers: [registry],
});

export interface GroupCommitOptions {
  /** Names the batcher in logs and metrics. */
  name: string;
  /** A fresh EntityManager for each transaction (`orm.em.fork()`, or a fork of the caller's). */
  fork: () => EntityManager;
  /** At most this many units of work share one transaction (default 64). */
  maxBatch?: number;
}

export interface GroupCommit {
  /**
   * Runs `work` in a transaction shared with the work submitted while the previous one ran, and
   * resolves with its result once that transaction committed (rejects with its own error only).
   */
  run<T>(work: (tx: EntityManager) => Promise<T>): Promise<T>;
}

export interface BatchCommitOptions<In, Out> extends GroupCommitOptions {
  /**
   * Does the work of many inputs in one transaction and answers one result per input, in their
   * order: the inputs of a group are written together (one statement for all, say) rather than one
   * after the other. Called with a single input when a group failed and its inputs run again alone.
   */
  many: (tx: EntityManager, inputs: In[]) => Promise<Out[]>;
}

export interface BatchCommit<In, Out> {
  /** Submits `input` to the next group; resolves with its result once that group's transaction committed. */
  run(input: In): Promise<Out>;
}

interface Unit<In> {
  input: In;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: small independent units of work (recording many orders' answers, say) share one
 * transaction instead of one each, so what the database commits (and the outbox relay wakes for)
 * is paid once per group. There is no waiting window: a unit that arrives while no transaction of
 * this batcher runs starts one at once; the units that arrive meanwhile form the next group, so a
 * group is as large as the load makes it and an idle service pays no latency.
 *
 * Failure isolation: when a unit throws (or the shared commit fails), the shared transaction is
 * rolled back whole and each of its units runs again in a transaction of its own, so one bad unit
 * fails alone and the others commit. A unit may therefore run twice: it must be database work
 * only (what it does outside the transaction is not rolled back), and must not swallow a database
 * error (PostgreSQL then turns the shared COMMIT into a rollback of everything).
 * Units must not depend on each other's effects, and each caller learns its result only after the
 * commit, as with a transaction of its own.
 */
export function groupCommit(options: GroupCommitOptions): GroupCommit {
  const batches = batchCommit<(tx: EntityManager) => Promise<unknown>, unknown>({
    ...options,
    many: async (tx, works) => {
      const out: unknown[] = [];
      for (const work of works) out.push(await work(tx));
      return out;
    },
  });
  return {
    run<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
      // Bound to the caller's async context: a unit that runs in a transaction another unit's call
      // started still runs under its own caller's trace span and log context, not that unit's.
      return batches.run(AsyncResource.bind(work)) as Promise<T>;
    },
  };
}

/**
 * A group commit whose groups are done by one call of `many` (groupCommit above says how groups
 * form and how a failed one is retried): what the units of a group write can go to the database
 * together, in one round trip, instead of one statement after the other in the shared transaction.
 * `many` runs in the async context of the call that started its group.
 */
export function batchCommit<In, Out>(options: BatchCommitOptions<In, Out>): BatchCommit<In, Out> {
  const maxBatch = options.maxBatch ?? 64;
  const queue: Unit<In>[] = [];
  let running = false;

  const results = async (tx: EntityManager, inputs: In[]): Promise<Out[]> => {
    const out = await options.many(tx, inputs);
    if (out.length !== inputs.length) throw new Error(`group commit ${options.name}: ${out.length} results for ${inputs.length} units`);
    return out;
  };

  const alone = async (unit: Unit<In>, how: 'alone' | 'retried'): Promise<void> => {
    try {
      transactions.inc({ name: options.name });
      const [result] = await options.fork().transactional((tx) => results(tx, [unit.input]));
      units.inc({ name: options.name, how });
      unit.resolve(result);
    } catch (error) {
      unit.reject(error);
    }
  };

  const shared = async (group: Unit<In>[]): Promise<void> => {
    let out: Out[];
    try {
      transactions.inc({ name: options.name });
      const inputs = group.map((unit) => unit.input);
      out = await options.fork().transactional((tx) => results(tx, inputs));
    } catch (error) {
      logger.warn({ err: error, batcher: options.name, units: group.length }, 'a shared transaction failed: each of its units runs again on its own');
      // One after the other: the retries take one pooled connection, not one each at once.
      for (const unit of group) await alone(unit, 'retried');
      return;
    }
    units.inc({ name: options.name, how: 'shared' }, group.length);
    group.forEach((unit, i) => unit.resolve(out[i]));
  };

  const pump = async (): Promise<void> => {
    running = true;
    try {
      while (queue.length > 0) {
        const group = queue.splice(0, maxBatch);
        await (group.length === 1 ? alone(group[0]!, 'alone') : shared(group));
      }
    } finally {
      running = false;
    }
  };

  return {
    run(input: In): Promise<Out> {
      return new Promise<Out>((resolve, reject) => {
        queue.push({ input, resolve: resolve as (value: unknown) => void, reject });
        if (!running) void pump();
      });
    },
  };
}

/**
 * `items` cut into runs whose lengths are powers of two, longest first (13 → 8, 4, 1): a group written
 * as one statement per run sends few distinct texts, which repeat whatever the size of a group, so
 * the statement cache prepares them (statement-cache.ts).
 */
export function inPowersOfTwo<T>(items: readonly T[]): T[][] {
  const runs: T[][] = [];
  for (let start = 0; start < items.length;) {
    const size = 2 ** Math.floor(Math.log2(items.length - start));
    runs.push(items.slice(start, start + size));
    start += size;
  }
  return runs;
}
