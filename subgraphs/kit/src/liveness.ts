import pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import { kysely, sql } from './persistence/kysely.js';
import { envInt } from './config.js';
import { logger } from './logger.js';
import { withTimeout } from './readiness.js';

export interface Liveness {
  /** live=false when the process is wedged: a supervisor should restart it (GET /livez answers 503). */
  state(): { live: boolean; reason?: string };
  /** Runs one probe now (also what the timer does). */
  probe(): Promise<void>;
  stop(): void;
}

/** A round trip through the ORM's pool, no table involved (readiness and the liveness probe). */
export const roundTrip = (orm: MikroORM): Promise<unknown> =>
  kysely<Record<string, never>>(orm.em.fork())
    .selectNoFrom(sql<number>`1`.as('one'))
    .execute();

/** A round trip on a dedicated pg connection outside the ORM's pool (the liveness probe, the leader lock). */
// SQL string: a bare pg.Client has no query builder; the statement touches no table.
export const ping = (client: pg.ClientBase): Promise<unknown> => client.query('SELECT 1');

/**
 * Tells a wedged process from a database outage. Every intervalMs it asks the ORM's pool for a
 * `SELECT 1`; when that fails it asks PostgreSQL through a fresh connection of its own. If the
 * server answers a fresh connection while our pool has not answered for wedgeMs, the process is
 * wedged (leaked or stuck connections, a deadlocked pool): restarting it is the cure, so the
 * liveness check fails. If the server does not answer either, it is an outage, which readiness
 * reports and which a restart would not cure.
 */
export function watchDatabase(orm: MikroORM, url: string, options: { intervalMs?: number; wedgeMs?: number; probeTimeoutMs?: number } = {}): Liveness {
  const intervalMs = options.intervalMs ?? envInt('LIVENESS_PROBE_MS', 5_000);
  const wedgeMs = options.wedgeMs ?? envInt('LIVENESS_WEDGE_MS', 30_000);
  const probeTimeoutMs = options.probeTimeoutMs ?? 3_000;
  let stuckSince: number | undefined;
  let lastError = '';

  const serverAnswers = async (): Promise<boolean> => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: probeTimeoutMs });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await withTimeout(ping(client), probeTimeoutMs, 'fresh connection did not answer');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  const probe = async () => {
    try {
      await withTimeout(roundTrip(orm), probeTimeoutMs, `the connection pool did not answer within ${probeTimeoutMs} ms`);
      if (stuckSince !== undefined) logger.info('the connection pool answers again');
      stuckSince = undefined;
      return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (await serverAnswers()) {
      stuckSince ??= Date.now();
      logger.warn({ stuckForMs: Date.now() - stuckSince, error: lastError }, 'PostgreSQL answers but our connection pool does not');
    } else {
      stuckSince = undefined; // an outage: readiness says so; restarting would not help
    }
  };

  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    probe().finally(() => {
      running = false;
    });
  }, intervalMs);
  timer.unref();

  return {
    state: () =>
      stuckSince !== undefined && Date.now() - stuckSince >= wedgeMs
        ? {
            live: false,
            reason: `the database answers but this process's connection pool has not for ${Math.round((Date.now() - stuckSince) / 1000)} s: ${lastError}`,
          }
        : { live: true },
    probe,
    stop: () => clearInterval(timer),
  };
}
