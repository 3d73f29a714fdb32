// What the orders cost the database: the SQL statements and transactions every process of the stack
// counted on its pooled connections (db_statements_total, db_transactions_total, db_round_trips_total on /metrics,
// subgraphs/kit/src/statement-counter.ts), summed, and PostgreSQL's own count of the benchmark
// database's transactions (pg_stat_database) as a cross-check. Background work (timeout sweeps,
// probes, relays waking up) is measured while the stack is idle and taken off.

const NAMES = { statements: 'db_statements_total', transactions: 'db_transactions_total', roundTrips: 'db_round_trips_total' };

async function readProcess(url) {
  const headers = process.env.METRICS_TOKEN ? { authorization: `Bearer ${process.env.METRICS_TOKEN}` } : {};
  const text = await (await fetch(url, { headers, signal: AbortSignal.timeout(10_000) })).text();
  const values = { statements: 0, transactions: 0, roundTrips: 0 };
  for (const line of text.split('\n')) {
    const [name, value] = line.split(' ');
    for (const [key, metric] of Object.entries(NAMES)) if (name === metric) values[key] = Number(value);
  }
  return values;
}

/** PostgreSQL's committed and rolled-back transactions of the database (its statistics lag by up to half a second). */
async function serverTransactions(reader) {
  await reader.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await reader.query('SELECT (xact_commit + xact_rollback)::bigint AS n FROM pg_stat_database WHERE datname = current_database()');
  return Number(rows[0].n);
}

/**
 * A reading of every counter at one moment.
 * @param {{ instances: { name: string, kind: string, port: number }[] }} stack
 */
export async function readCounters(stack, reader) {
  const subgraphs = stack.instances.filter((i) => !['gateway', 'psp', 'web'].includes(i.kind));
  const per = await Promise.all(subgraphs.map(async (i) => [i.name, await readProcess(`http://127.0.0.1:${i.port}/metrics`)]));
  const sum = (key) => per.reduce((n, [, v]) => n + v[key], 0);
  return {
    at: Date.now(),
    statements: sum('statements'),
    transactions: sum('transactions'),
    roundTrips: sum('roundTrips'),
    server: await serverTransactions(reader),
    per: new Map(per),
  };
}

/** The difference of two readings, per process too. */
export function difference(before, after) {
  const per = new Map(
    [...after.per].map(([name, v]) => [
      name,
      {
        statements: v.statements - (before.per.get(name)?.statements ?? 0),
        transactions: v.transactions - (before.per.get(name)?.transactions ?? 0),
        roundTrips: v.roundTrips - (before.per.get(name)?.roundTrips ?? 0),
      },
    ]),
  );
  return {
    ms: after.at - before.at,
    statements: after.statements - before.statements,
    transactions: after.transactions - before.transactions,
    roundTrips: after.roundTrips - before.roundTrips,
    server: after.server - before.server,
    per,
  };
}

/**
 * Per order: the load's counts less what the idle stack does in as long a time, divided by the orders.
 * `idle` is a difference measured with no load.
 */
export function perOrder(load, idle, orders) {
  const scale = idle.ms > 0 ? load.ms / idle.ms : 0;
  const net = (key) => Math.max(0, load[key] - idle[key] * scale);
  return {
    statements: net('statements') / orders,
    transactions: net('transactions') / orders,
    roundTrips: net('roundTrips') / orders,
    server: net('server') / orders,
    background: { statements: (idle.statements * 1000) / idle.ms, transactions: (idle.transactions * 1000) / idle.ms, server: (idle.server * 1000) / idle.ms },
    per: new Map(
      [...load.per].map(([name, v]) => {
        const quiet = idle.per.get(name) ?? { statements: 0, transactions: 0, roundTrips: 0 };
        const netOf = (key) => Math.max(0, v[key] - quiet[key] * scale) / orders;
        return [name, { statements: netOf('statements'), transactions: netOf('transactions'), roundTrips: netOf('roundTrips') }];
      }),
    ),
  };
}
