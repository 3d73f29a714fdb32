import { logger, openDatabase } from '@shop/kit';
import { database } from './index.js';
import { reconcile, type ReconciliationReport } from './domain/reconciliation.js';

const USAGE = 'usage: node subgraphs/payment/dist/reconcile.js --from <ISO-8601> --to <ISO-8601>';

function parseArgs(args: string[]): { from: Date; to: Date } {
  const value = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const date = (name: string, fallback: Date): Date => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = new Date(raw);
    if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(parsed.getTime())) throw new Error(`--${name} must be an ISO-8601 timestamp, got "${raw}"\n${USAGE}`);
    return parsed;
  };
  const to = date('to', new Date());
  const from = date('from', new Date(to.getTime() - 86_400_000));
  if (from > to) throw new Error(`--from must not be after --to\n${USAGE}`);
  return { from, to };
}

/**
 * One reconciliation run against the provider ledger (PSP_URL) and the payment schema
 * (DATABASE_URL). Repairs go into the outbox; the running payment subgraph's relay publishes them.
 */
export async function reconcileCommand(args: string[]): Promise<ReconciliationReport> {
  const { from, to } = parseArgs(args);
  const orm = await openDatabase({ ...database, poolMax: 2 });
  try {
    return await reconcile(orm.em.fork(), from, to);
  } finally {
    await orm.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.SERVICE_NAME ??= 'payment-reconcile';
  reconcileCommand(process.argv.slice(2)).then(
    (report) => {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      logger.error({ err: error }, 'reconciliation failed');
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
