import pg from 'pg';
import { databaseUrl } from './config.js';
import { logger } from './logger.js';
import { ping } from './liveness.js';

export interface LeaderLock {
  /** True while this process holds the lock; tries to take it when nobody does. */
  acquire(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * Leadership among the replicas of a process: whoever holds the PostgreSQL session advisory lock
 * `name`, on a connection of its own, leads. PostgreSQL releases the lock when that session ends
 * (the process dies, the connection drops), and the next replica to ask takes over. Needs a direct
 * connection (or a session-mode pooler): a transaction-mode pooler would not keep the session.
 */
export function leaderLock(name: string, url = databaseUrl()): LeaderLock {
  let client: pg.Client | undefined;
  let leading = false;
  const drop = () => {
    const old = client;
    client = undefined;
    if (leading) logger.warn({ lock: name }, 'lost leadership: its database session ended');
    leading = false;
    old?.end().catch(() => undefined);
  };
  return {
    async acquire() {
      try {
        if (!client) {
          const fresh = new pg.Client({ connectionString: url, application_name: `leader:${name}` });
          fresh.on('error', drop);
          await fresh.connect();
          client = fresh;
        }
        if (leading) {
          // The session-level advisory lock lives on this dedicated pg connection, outside any ORM pool.
          await ping(client);
          return true;
        }
        // SQL string: a session-level advisory lock lives on this dedicated pg connection, outside any ORM pool.
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [name]);
        leading = rows[0]?.ok === true;
        if (leading) logger.info({ lock: name }, 'took leadership');
        return leading;
      } catch (error) {
        logger.warn({ err: error, lock: name }, 'leader lock unavailable');
        drop();
        return false;
      }
    },
    async release() {
      const old = client;
      client = undefined;
      leading = false;
      // Ending the session releases the lock.
      await old?.end().catch(() => undefined);
    },
  };
}

export interface LeaderJob<T> {
  /** One run now (after the one under way): answers its result, or null when another replica leads or the job stopped. */
  tick(): Promise<T | null>;
  /** Stops the schedule, waits for the run under way and gives up the lock. */
  stop(): Promise<void>;
}

/**
 * A periodic job that runs on one replica at a time: every `intervalMs` (and at once with
 * `runAtStart`) the replica that holds `lock` runs `run`; the others only try to take the lock.
 * Runs never overlap; a failed scheduled run is reported to `onError` and retried at the next tick.
 */
export function startLeaderJob<T>(options: {
  lock: LeaderLock;
  intervalMs: number;
  run: () => Promise<T>;
  onError: (err: unknown) => void;
  runAtStart?: boolean;
}): LeaderJob<T> {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = async (): Promise<T | null> => {
    if (stopped || !(await options.lock.acquire())) return null;
    return options.run();
  };
  const schedule = () => {
    running = running.then(tick).catch(options.onError);
  };
  const timer = setInterval(schedule, options.intervalMs);
  timer.unref();
  if (options.runAtStart) schedule();
  return {
    tick: () => {
      const next = running.then(tick);
      running = next.catch(() => undefined);
      return next;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await options.lock.release();
    },
  };
}
