// The life cycle every benchmark shares: options and --help, a database of its own, the machine facts and
// parameter banner, the whole stack started as real processes, Ctrl-C handling, and a clean-up that runs
// once whatever happens (clients, reader, stack, database dropped), then the exit code.
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { startStack } from '../scripts/stack.mjs';
import { root } from '../scripts/processes.mjs';
import { createBenchDatabase, openReader, serverVersion } from './database.mjs';
import { table } from './stats.mjs';

process.env.STACK_LOG_LEVEL ??= 'warn';
// This process only mints tokens with the kit; its own log lines would be noise between the figures.
process.env.LOG_LEVEL ??= 'error';
export const { mintClientToken } = await import('../../subgraphs/kit/dist/index.js');

export const say = (line = '') => process.stdout.write(`${line}\n`);
/** The closing summary table, after an empty line. */
export const saySummary = (rows) => say(`\n${table('summary', rows)}`);
export const seconds = (msValue) => `${(msValue / 1000).toFixed(1)} s`;

/** A failure of the set-up: reported by its message alone, without a stack trace. */
export class SetupError extends Error {}

/** Whether the gateway still answers its readiness probe. */
export const gatewayReady = (stack) =>
  fetch(stack.gatewayUrl.replace(/\/graphql$/, '/readyz'))
    .then((r) => r.ok)
    .catch(() => false);

let interrupted = false;
/** Stacks started (or starting), stopped at clean-up. */
const stacksStarting = [];
let database;
let reader;
let cleaning;
const cleanupHooks = [];

/** Runs the hooks (clients first), closes the reader, stops the stack (also one still starting) and drops the database; runs once. */
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const hook of cleanupHooks) await hook();
    await reader?.end().catch(() => {});
    for (const starting of stacksStarting)
      await starting.then(
        (s) => s.stop(),
        () => {},
      );
    if (database) {
      await database.drop().then(
        () => say(`database ${database.name} dropped`),
        (error) => say(`could not drop database ${database.name}: ${error.message}`),
      );
    }
  })());

/**
 * Runs one benchmark and exits the process with its code (130 when interrupted, `failureCode` when it threw).
 * @param {{
 *   title: string,
 *   usage: string,
 *   readOptions: () => { help: boolean },
 *   preflight?: (options) => { exitCode?: number, machine?: [string, string][] },
 *   parameters: (options) => [string, unknown][],
 *   stopping?: string,
 *   ownStacks?: boolean,
 *   stackEnv?: (options, logs: string) => Record<string, string>,
 *   failureCode: number,
 *   run: (context: { options, stack, database, reader, runId: string, logs: string, machine: [string, string][],
 *                    interrupted: () => boolean, onCleanup: (hook: () => unknown) => void,
 *                    startStack: (suffix: string, extra?: object) => Promise<object> }) => Promise<number>,
 * }} benchmark
 * `preflight` checks the host before anything starts: an exitCode ends the run, machine rows join the banner.
 * `stopping` is what the first Ctrl-C announces. With `ownStacks` no stack is started before `run`
 * (`stack` is undefined): `run` starts each it needs with `startStack(suffix, { replicas, env })`, on the
 * same database, with the run id `<runId><suffix>`; every one is stopped at clean-up.
 * `stackEnv` adds to every process's environment (each stack's logs directory is its second argument).
 */
export async function runBenchmark(benchmark) {
  const stopping = benchmark.stopping ?? 'stopping the stack and dropping the database';
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      say(`\n${signal}: ${stopping} (again to force)...`);
      cleanup().finally(() => process.exit(130));
    });
  }
  let code;
  try {
    code = await main(benchmark);
  } catch (error) {
    if (interrupted) code = 130;
    else {
      say(`\nbenchmark failed: ${error instanceof SetupError ? error.message : (error?.stack ?? error)}`);
      code = benchmark.failureCode;
    }
  }
  await cleanup();
  process.exit(interrupted ? 130 : code);
}

async function main(benchmark) {
  const options = benchmark.readOptions();
  if (options.help) {
    say(benchmark.usage);
    return 0;
  }
  const host = benchmark.preflight?.(options) ?? {};
  if (host.exitCode !== undefined) return host.exitCode;

  const runId = `bench${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const serverUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432';
  const cpus = os.cpus();
  database = await createBenchDatabase(serverUrl).catch((error) => {
    throw new SetupError(`cannot create the benchmark database on ${new URL(serverUrl).host}: ${error.message}`);
  });
  reader = await openReader(database.url);
  const machine = [
    ['CPUs', `${cpus.length} × ${cpus[0]?.model?.trim() ?? 'unknown'}`],
    ['memory', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['load average (1 min) at start', os.loadavg()[0].toFixed(2)],
    ['Node', process.version],
    ['OS', `${os.type()} ${os.release()} ${os.arch()}`],
    ['PostgreSQL', await serverVersion(reader)],
    ...(host.machine ?? []),
  ];
  const parameters = [...benchmark.parameters(options), ['run id', runId], ['database', database.name]];
  say(
    table(
      benchmark.title,
      [...machine, ...parameters].map(([k, v]) => [k, String(v)]),
    ),
  );
  say();

  // Benchmarks measure throughput from one machine's address and a few tokens: the gateway's per-client
  // rate limits (gateway/src/rate-limit) would refuse the load, so they are set out of reach.
  const unlimited = 'user=1000000000,partner=1000000000,anonymous=1000000000';
  /** Starts a stack on the benchmark's database (run id `<runId><suffix>`), stopped at clean-up. */
  const launchStack = async (suffix, extra = {}) => {
    const startedAt = Date.now();
    const env = { GATEWAY_RATE_LIMITS: unlimited, ...benchmark.stackEnv?.(options, `${root}artifacts/logs/${runId}${suffix}`), ...extra.env };
    // Replicas share their kind's port in the kernel (SO_REUSEPORT), as behind a Kubernetes Service: a
    // balancer in this process would spend the benchmark's own CPU and event loop on every byte.
    const starting = startStack({ databaseUrl: database.url, runId: `${runId}${suffix}`, balancer: 'kernel', ...extra, env });
    stacksStarting.push(starting);
    const stack = await starting.catch((error) => {
      throw new SetupError(`the stack failed to start: ${error.message}`);
    });
    say(`stack ready in ${seconds(Date.now() - startedAt)} (gateway ${stack.gatewayUrl}; logs in ${root}artifacts/logs/${runId}${suffix})`);
    return stack;
  };
  let stack;
  if (!benchmark.ownStacks) {
    say('starting the stack...');
    stack = await launchStack('');
    if (interrupted) return 130;
  }
  const logs = `${root}artifacts/logs/${runId}`;

  return benchmark.run({
    options,
    stack,
    database,
    reader,
    runId,
    logs,
    machine,
    interrupted: () => interrupted,
    onCleanup: (hook) => cleanupHooks.push(hook),
    startStack: launchStack,
  });
}
