import { parseArgs } from 'node:util';
import { envInt, logger, openDatabase } from '@shop/kit';
import { MIN_ARCHIVE_DAYS, archivable, archiveBatch } from './domain/archive.js';
import { database } from './persistence.js';

export const USAGE = `usage: npm run archive -- [--older-than-days N] [--batch-size N] [--limit N] [--dry-run]

Moves orders closed (COMPLETED, CANCELED, REFUNDED) for more than N days, with their items, audit
trail, idempotency key and refunds, from the schema ordering to ordering_archive (DATABASE_URL).
order(id) and orders still answer for them. Each batch commits on its own: the command can be
stopped at any moment and run again; it continues with what is left and never moves an order twice.
Prints its progress on stderr and a JSON summary on stdout.

  --older-than-days N   archive orders closed more than N days ago (default ORDER_ARCHIVE_AFTER_DAYS, 90; at least ${MIN_ARCHIVE_DAYS})
  --batch-size N        orders per transaction (default 500, 1..5000)
  --limit N             stop after about N orders (default: all that are archivable)
  --dry-run             change nothing: say how many orders would move
  -h, --help            this text`;

/** A command line we refuse: the message says why, with the usage. */
export class UsageError extends Error {}

export interface ArchiveArgs {
  help: boolean;
  dryRun: boolean;
  olderThanDays: number;
  batchSize: number;
  limit: number;
}

function whole(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"\n\n${USAGE}`);
  return n;
}

export function parseArchiveArgs(args: string[]): ArchiveArgs {
  let values;
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        'older-than-days': { type: 'string' },
        'batch-size': { type: 'string' },
        limit: { type: 'string' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  const fallbackDays = envInt('ORDER_ARCHIVE_AFTER_DAYS', 90);
  if (fallbackDays < MIN_ARCHIVE_DAYS) throw new UsageError(`ORDER_ARCHIVE_AFTER_DAYS must be at least ${MIN_ARCHIVE_DAYS}, got ${fallbackDays}`);
  return {
    help: values.help === true,
    dryRun: values['dry-run'] === true,
    olderThanDays: whole('older-than-days', values['older-than-days'], fallbackDays, MIN_ARCHIVE_DAYS, 36_500),
    batchSize: whole('batch-size', values['batch-size'], 500, 1, 5000),
    limit: whole('limit', values.limit, Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER),
  };
}

export interface ArchiveSummary {
  dryRun: boolean;
  olderThanDays: number;
  /** Archivable when the run started. */
  archivable: number;
  archived: number;
  /** Still archivable when the run ended. */
  left: number;
}

/** One run of `npm run archive`; `progress` receives a line per batch. */
export async function archiveCommand(args: string[], progress: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<ArchiveSummary> {
  const options = parseArchiveArgs(args);
  if (options.help) throw new UsageError(USAGE);
  const orm = await openDatabase({ ...database, poolMax: 2 });
  try {
    const start = await archivable(orm.em.fork(), options.olderThanDays);
    const goal = Math.min(start.count, options.limit);
    progress(`${start.count} order(s) closed more than ${options.olderThanDays} days ago${start.count ? ` (ids ${start.first} … ${start.last})` : ''}`);
    if (options.dryRun || goal === 0) {
      return { dryRun: options.dryRun, olderThanDays: options.olderThanDays, archivable: start.count, archived: 0, left: start.count };
    }
    const began = Date.now();
    let archived = 0;
    while (archived < goal) {
      const moved = await archiveBatch(orm.em, options.olderThanDays, Math.min(options.batchSize, goal - archived));
      if (moved === 0) break;
      archived += moved;
      const perSecond = archived / Math.max(0.001, (Date.now() - began) / 1000);
      progress(`archived ${archived}/${goal} (${Math.floor((archived / goal) * 100)}%), ${Math.round(perSecond)} orders/s`);
    }
    const end = await archivable(orm.em.fork(), options.olderThanDays);
    return { dryRun: false, olderThanDays: options.olderThanDays, archivable: start.count, archived, left: end.count };
  } finally {
    await orm.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.SERVICE_NAME ??= 'archive';
  process.env.LOG_LEVEL ??= 'warn';
  archiveCommand(process.argv.slice(2)).then(
    (summary) => {
      console.log(JSON.stringify(summary, null, 2));
      process.exit(0);
    },
    (error: unknown) => {
      if (error instanceof UsageError && error.message === USAGE) {
        console.log(USAGE);
        process.exit(0);
      }
      if (error instanceof UsageError) {
        console.error(error.message);
        process.exit(2);
      }
      logger.fatal({ err: error }, 'archive failed');
      console.error(`archive failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
