// npm run bench:hot-stock: what spreading a hot SKU's stock over N bucket rows gains against one row
// (seed-design §11.2, §17 example 6), measured with pgbench on a database of its own. Each transaction is
// a reservation's shape: one conditional UPDATE of the stock row (or of one random bucket), then the
// reservation row, then COMMIT, so the row lock is held as long as in inventory's reserve.
import os from 'node:os';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { createBenchDatabase } from './database.mjs';
import { readFlags } from './flags.mjs';
import { table } from './stats.mjs';

const run = promisify(execFile);
const say = (line = '') => process.stdout.write(`${line}\n`);

const USAGE = `npm run bench:hot-stock -- [options]

pgbench against a database of its own (created on the server of DATABASE_URL, dropped at the end):
reservations of one hot SKU taken from one stock row, then from N bucket rows, side by side.

  --clients C     concurrent pgbench clients                  (BENCH_CLIENTS, default 50)
  --seconds T     seconds per run                             (BENCH_SECONDS, default 10)
  --buckets LIST  bucket counts to compare with one row       (BENCH_BUCKETS, default 4,16)
  --help`;

const { values, help, pick, int } = readFlags(process.argv.slice(2), process.env, {
  clients: { type: 'string' },
  seconds: { type: 'string' },
  buckets: { type: 'string' },
});
if (help) {
  say(USAGE);
  process.exit(0);
}
void values;
const clients = int('clients', 'BENCH_CLIENTS', 50, { max: 250 });
const seconds = int('seconds', 'BENCH_SECONDS', 10, { max: 600 });
const bucketCounts = String(pick('buckets', 'BENCH_BUCKETS', '4,16'))
  .split(',')
  .map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 2 || n > 1024) throw new Error(`--buckets must list counts in 2..1024, got "${s}"`);
    return n;
  });

const serverUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432';
const database = await createBenchDatabase(serverUrl);
const work = mkdtempSync(join(tmpdir(), 'hot-stock-'));
const UNITS = 1_000_000_000;
try {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const maxBuckets = Math.max(...bucketCounts);
  await client.query(`
    CREATE TABLE stock (sku_id text, warehouse_id text, available int NOT NULL CHECK (available >= 0), reserved int NOT NULL, sold int NOT NULL,
                        PRIMARY KEY (sku_id, warehouse_id));
    CREATE TABLE stock_bucket (sku_id text, warehouse_id text, bucket int, available int NOT NULL CHECK (available >= 0), reserved int NOT NULL, sold int NOT NULL,
                               PRIMARY KEY (sku_id, warehouse_id, bucket));
    CREATE TABLE reservation (id bigserial PRIMARY KEY, sku_id text NOT NULL, warehouse_id text NOT NULL, bucket int, qty int NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO stock VALUES ('hot', 'wh', ${UNITS}, 0, 0);
    INSERT INTO stock_bucket SELECT 'hot', 'wh', b, ${Math.floor(UNITS / maxBuckets)}, 0, 0 FROM generate_series(0, ${maxBuckets - 1}) b;`);
  await client.end();

  const scripts = {
    one: `BEGIN;
UPDATE stock SET available = available - 1, reserved = reserved + 1 WHERE sku_id = 'hot' AND warehouse_id = 'wh' AND available >= 1;
INSERT INTO reservation (sku_id, warehouse_id, qty) VALUES ('hot', 'wh', 1);
COMMIT;
`,
    bucket: `\\set b random(0, :buckets - 1)
BEGIN;
UPDATE stock_bucket SET available = available - 1, reserved = reserved + 1 WHERE sku_id = 'hot' AND warehouse_id = 'wh' AND bucket = :b AND available >= 1;
INSERT INTO reservation (sku_id, warehouse_id, bucket, qty) VALUES ('hot', 'wh', :b, 1);
COMMIT;
`,
  };
  for (const [name, text] of Object.entries(scripts)) writeFileSync(join(work, `${name}.sql`), text);

  const pgbench = async (script, extra = []) => {
    const { stdout } = await run('pgbench', ['-n', '-c', String(clients), '-j', '2', '-T', String(seconds), '-f', join(work, script), ...extra, database.url], {
      maxBuffer: 1 << 22,
    });
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    const latency = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1]);
    return { tps, latency };
  };

  say(
    table('hot stock: one row against buckets (pgbench)', [
      ['CPUs', `${os.cpus().length}`],
      ['load average (1 min) at start', os.loadavg()[0].toFixed(2)],
      ['clients / seconds per run', `${clients} / ${seconds}`],
      ['transaction', 'conditional UPDATE of the stock row (or one random bucket) + INSERT reservation + COMMIT'],
    ]),
  );
  const one = await pgbench('one.sql');
  const rows = [['one row', `${one.tps.toFixed(0)} reservations/s, ${one.latency.toFixed(1)} ms mean`]];
  for (const n of bucketCounts) {
    const b = await pgbench('bucket.sql', ['-D', `buckets=${n}`]);
    rows.push([`${n} buckets`, `${b.tps.toFixed(0)} reservations/s, ${b.latency.toFixed(1)} ms mean  (${(b.tps / one.tps).toFixed(1)}× one row)`]);
  }
  rows.push(['load average (1 min) at the end', os.loadavg()[0].toFixed(2)]);
  say();
  say(table('results', rows));
} finally {
  rmSync(work, { recursive: true, force: true });
  await database.drop();
}
