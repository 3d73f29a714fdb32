import { parseArgs } from 'node:util';
import { logger, openDatabase } from '@shop/kit';
import { reconcile, type ReconciliationReport } from './domain/reconciliation.js';
import { database } from './persistence.js';

export const USAGE = `usage: npm run reconcile -- [--from <ISO-8601>] [--to <ISO-8601>] [--dry-run]

Compares the payment provider's ledger (PSP_URL) with our payments (DATABASE_URL) over [from, to]
(default: the last 24 hours), pair by pair: replays a result the provider decided that never
reached a PENDING payment, and reports every other difference with its kind (README "Operator
cases"). Prints the report as JSON on stdout and a summary on stderr.

  --from <time>   start of the window (ISO-8601)
  --to <time>     end of the window (ISO-8601, default now)
  --dry-run       change nothing: list the repairs a live run would make ("planned")
  -h, --help      this text`;

/** A command line we refuse: the message says why, with the usage. */
export class UsageError extends Error {}

export interface ReconcileArgs {
  help: boolean;
  dryRun: boolean;
  from: Date;
  to: Date;
}

export function parseReconcileArgs(args: string[]): ReconcileArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: { from: { type: 'string' }, to: { type: 'string' }, 'dry-run': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  const { values } = parsed;
  const date = (name: 'from' | 'to', fallback: Date): Date => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const when = new Date(raw);
    if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(when.getTime()))
      throw new UsageError(`--${name} must be an ISO-8601 timestamp, got "${raw}"\n\n${USAGE}`);
    return when;
  };
  const to = date('to', new Date());
  const from = date('from', new Date(to.getTime() - 86_400_000));
  if (from > to) throw new UsageError(`--from must not be after --to\n\n${USAGE}`);
  return { help: values.help === true, dryRun: values['dry-run'] === true, from, to };
}

/**
 * One reconciliation run against the provider ledger (PSP_URL) and the payment schema
 * (DATABASE_URL). Repairs go into the outbox; the running payment subgraph's relay publishes them.
 */
export async function reconcileCommand(args: string[]): Promise<ReconciliationReport> {
  const { from, to, dryRun, help } = parseReconcileArgs(args);
  if (help) throw new UsageError(USAGE);
  const orm = await openDatabase({ ...database, poolMax: 2 });
  try {
    return await reconcile(orm.em.fork(), from, to, undefined, { dryRun });
  } finally {
    await orm.close();
  }
}

/** What the run did or, with --dry-run, would do: one line per repair and per difference. */
export function summary(report: ReconciliationReport): string {
  const verb = report.dryRun ? 'would replay' : 'replayed';
  const lines = [
    `${report.dryRun ? 'DRY RUN: nothing changed. ' : ''}${report.providerTransactions} provider transaction(s) from ${report.from} to ${report.to}`,
    ...(report.dryRun ? report.planned : report.repaired).map((r) => `  ${verb} ${r.status} for ${r.paymentId} (${r.paymentTxnId})`),
    ...report.diffs.map(
      (d) => `  report ${d.kind}: ${d.paymentId} ours=${d.ours?.status ?? 'none'} provider=${d.provider?.status ?? 'none'}${d.detail ? ` (${d.detail})` : ''}`,
    ),
  ];
  if (lines.length === 1) lines.push('  nothing to repair or report');
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.SERVICE_NAME ??= 'payment-reconcile';
  const args = process.argv.slice(2);
  let parsed: ReconcileArgs | undefined;
  try {
    parsed = parseReconcileArgs(args);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  reconcileCommand(args).then(
    (report) => {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      process.stderr.write(summary(report));
      process.exit(0);
    },
    (error: unknown) => {
      logger.error({ err: error }, 'reconciliation failed');
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
