import { Counter } from 'prom-client';
import { registry } from './metrics.js';
import type { StatementCache } from './persistence/statement-cache.js';

/**
 * SQL statements and transactions this process ran on its pooled connections, on /metrics: what an
 * order costs the database, summed over every process by `npm run bench:orders` (PostgreSQL's
 * pg_stat_statements needs a server restart to load; these counters need nothing).
 * Transaction control (BEGIN, COMMIT, ROLLBACK, savepoints) is not a statement; a statement outside
 * an explicit transaction is a transaction of its own, as PostgreSQL counts it (pg_stat_database).
 */
export const dbStatements = new Counter({
  name: 'db_statements_total',
  help: 'SQL statements sent on pooled connections (transaction control excluded)',
  registers: [registry],
});
export const dbTransactions = new Counter({
  name: 'db_transactions_total',
  help: 'Database transactions on pooled connections: explicit ones, and each statement outside one',
  registers: [registry],
});

export const dbRoundTrips = new Counter({
  name: 'db_round_trips_total',
  help: 'Texts sent to the database on pooled connections, transaction control included: each is a round trip',
  registers: [registry],
});

const BEGIN = /^\s*(begin|start\s+transaction)\b/i;
const END = /^\s*(commit|end|rollback)\b(?!\s+to\b)/i;
const CONTROL = /^\s*(savepoint|release|rollback\s+to)\b/i;

/** What one statement text means for the counters: a transaction begins or ends, control, or a statement. */
export function classifyStatement(text: string): 'begin' | 'end' | 'control' | 'statement' {
  if (BEGIN.test(text)) return 'begin';
  if (END.test(text)) return 'end';
  if (CONTROL.test(text)) return 'control';
  return 'statement';
}

interface Queryable {
  query: (...args: unknown[]) => unknown;
}
interface ConnectEmitter {
  on(event: 'connect', listener: (client: Queryable) => void): unknown;
}

/**
 * Counts every statement and transaction of the pool's connections (wraps each connection's query
 * once, when it connects; the wrapper calls its class's query as it is then, so what else wraps
 * that, a test's spy say, still sees every call). With `cache`, the same wrapper sends a text sent
 * often enough as a named statement (persistence/statement-cache.ts), counted as any other.
 */
export function countStatements(pool: ConnectEmitter, cache?: StatementCache): void {
  pool.on('connect', (client) => {
    const proto = Object.getPrototypeOf(client) as Queryable;
    let inTransaction = false;
    client.query = (...given: unknown[]) => {
      // A text sent often enough goes as a named (server-side prepared) statement (statement-cache.ts).
      const args = cache ? cache.arguments(given) : given;
      const first = args[0];
      const text = typeof first === 'string' ? first : typeof (first as { text?: unknown })?.text === 'string' ? (first as { text: string }).text : '';
      dbRoundTrips.inc();
      switch (classifyStatement(text)) {
        case 'begin':
          inTransaction = true;
          dbTransactions.inc();
          break;
        case 'end':
          inTransaction = false;
          break;
        case 'control':
          break;
        case 'statement':
          dbStatements.inc();
          if (!inTransaction) dbTransactions.inc();
      }
      const sent = proto.query.apply(client, args);
      if (cache && args !== given && sent instanceof Promise) sent.then(undefined, (error: unknown) => cache.failed(args, error));
      return sent;
    };
  });
}
