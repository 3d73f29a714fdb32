import { createHash } from 'node:crypto';
import { Counter } from 'prom-client';
import { registry } from '../metrics.js';

/**
 * Server-side prepared statements for the SQL a process sends again and again, as PgJDBC does with
 * its `prepareThreshold`: a parameterised text sent `threshold` times becomes a named statement
 * (pg's `{ name, text, values }`), which each connection parses once and then only binds and runs,
 * so PostgreSQL stops parsing, rewriting and (once its plan cache settles on a generic plan)
 * planning it on every call. In `npm run bench:orders`, planning alone was about a third of
 * PostgreSQL's CPU per order (pg_stat_statements with track_planning).
 *
 * Bounded: at most `max` texts are named per process (each connection keeps a plan for each it ran),
 * the texts sent once (ad hoc, or with values inlined) never are. Statements without parameters
 * (BEGIN, COMMIT, DDL, LISTEN) are left alone.
 *
 * A migration that changes what a named statement returns (a column added to a table it selects `*`
 * from) makes PostgreSQL refuse its cached plan once per connection ("cached plan must not change
 * result type"): that call fails as any statement may (its transaction is retried by its caller),
 * and the text gets a new name, prepared afresh on every connection. A session-mode pooler
 * (docs/production.md) keeps a connection's statements; transaction mode is not supported anyway.
 */
export interface StatementCacheOptions {
  /** Sends of one text before it is prepared (default 3). */
  threshold?: number;
  /** Texts prepared per process at most (default 200). */
  max?: number;
}

const prepares = new Counter({
  name: 'db_prepared_statements_total',
  help: 'Statement texts this process named as server-side prepared statements (again after a migration changed what one returns)',
  registers: [registry],
});

/** PostgreSQL's feature_not_supported, which it answers for a prepared statement whose result columns changed. */
const RESULT_TYPE_CHANGED = '0A000';
/** Texts counted before one is prepared, at most; beyond it the counts start over (ad hoc texts do not pile up). */
const COUNTED = 5000;

export type QueryArgs = unknown[];

/**
 * What turns a pooled connection's query arguments into a named statement once their text has been
 * sent often enough, and learns from a refused cached plan. One per process (shared by its pools:
 * a name stands for one text everywhere).
 */
export function statementCache(options: StatementCacheOptions = {}) {
  const threshold = options.threshold ?? 3;
  const max = options.max ?? 200;
  const seen = new Map<string, number>();
  const names = new Map<string, string>();
  let generation = 0;
  const nameOf = (text: string) => `s${createHash('sha1').update(text).digest('base64url').slice(0, 20)}_${generation}`;
  return {
    /** The arguments to send: `[text, values, ...]` as `[{ name, text, values }, ...]` once the text is prepared. */
    arguments(args: QueryArgs): QueryArgs {
      const [text, values, ...rest] = args;
      if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0) return args;
      let name = names.get(text);
      if (name === undefined) {
        const sent = (seen.get(text) ?? 0) + 1;
        if (sent < threshold || names.size >= max) {
          if (seen.size >= COUNTED) seen.clear();
          seen.set(text, sent);
          return args;
        }
        seen.delete(text);
        name = nameOf(text);
        names.set(text, name);
        prepares.inc();
      }
      return [{ name, text, values }, ...rest];
    },
    /** Called with a failed call's arguments: a refused cached plan gives its text a new name. */
    failed(args: QueryArgs, error: unknown): void {
      const first = args[0] as { name?: unknown; text?: unknown } | undefined;
      if ((error as { code?: string })?.code !== RESULT_TYPE_CHANGED || typeof first?.name !== 'string' || typeof first.text !== 'string') return;
      generation += 1;
      names.set(first.text, nameOf(first.text));
      prepares.inc();
    },
  };
}

export type StatementCache = ReturnType<typeof statementCache>;
