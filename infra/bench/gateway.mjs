// npm run bench:gateway: our gateway and Hive Gateway (@graphql-hive/gateway, a benchmark-only dev
// dependency) side by side on the same supergraph and the same subgraph processes, with the same
// request mixes: anonymous catalog reads and authenticated order and cart reads. Runs alternate
// between the two gateways (ours, Hive, Hive, ours, ...) so drift of a noisy machine falls on both.
// Prints requests/s, p95, the ratio ours/Hive, failed answers, the load average and the goals.
import os from 'node:os';
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { freePort } from '../scripts/stack.mjs';
import { root } from '../scripts/processes.mjs';
import { readFlags } from './flags.mjs';
import { gql } from './gateway-client.mjs';
import { anonymousMix, authenticatedMix, seeded, setUpBuyers, setUpCatalog } from './gateway-mixes.mjs';
import { mintClientToken, runBenchmark, say, saySummary, SetupError } from './harness.mjs';
import { Latencies, Tally, ms } from './stats.mjs';

const USAGE = `npm run bench:gateway -- [options]

Starts the whole system (own database, own broker names and Redis prefix) and Hive Gateway on the same
supergraph and subgraphs, then sends both gateways the same request mixes from C concurrent clients
(each sends its next request when the last is answered), alternating runs between them:

  anonymous       the storefront's catalog reads: listing pages (sorts, categories, later pages),
                  searches, product pages, SKU pages with stock, categories
  authenticated   buyers' order pages, order lists and carts, each with its own bearer token

Hive Gateway gets the identity exactly as ours: the token verified once per request, the identity
signed per subgraph (infra/bench/hive-gateway.config.mjs). Goals: ours/Hive requests/s >= 1.0 on the
anonymous mix and >= 0.8 on the authenticated one, with no failed answer.

  --clients C     concurrent clients                       (BENCH_CLIENTS, default 50)
  --seconds S     length of one run                         (BENCH_SECONDS, default 15)
  --rounds R      runs of each gateway per mix              (BENCH_ROUNDS, default 3)
  --products P    catalog products created (2-3 SKUs each)  (BENCH_PRODUCTS, default 40)
  --buyers B      buyers, each with a cart and 2 orders     (BENCH_BUYERS, default 50)
  --help

Exit code: 0 when every goal holds, 1 when one does not, 2 when the set-up failed, 130 when interrupted.`;

const GOALS = { anonymous: 1.0, authenticated: 0.8 };

function readOptions(argv = process.argv.slice(2), env = process.env) {
  const { help, int } = readFlags(argv, env, {
    clients: { type: 'string' },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    products: { type: 'string' },
    buyers: { type: 'string' },
  });
  return {
    help,
    clients: int('clients', 'BENCH_CLIENTS', 50, { max: 2_000 }),
    seconds: int('seconds', 'BENCH_SECONDS', 15, { max: 3_600 }),
    rounds: int('rounds', 'BENCH_ROUNDS', 3, { max: 100 }),
    products: int('products', 'BENCH_PRODUCTS', 40, { max: 1_000 }),
    buyers: int('buyers', 'BENCH_BUYERS', 50, { max: 10_000 }),
  };
}

/** Hive Gateway on a port of its own, serving the supergraph with the stack's subgraph addresses. */
async function startHive(stack, runId, logs) {
  const port = await freePort();
  let sdl = readFileSync(`${root}schema/supergraph.graphql`, 'utf8');
  sdl = sdl.replace(
    /@join__graph\(name: "(\w+)", url: "[^"]*"\)/g,
    (_, name) => `@join__graph(name: "${name}", url: "http://127.0.0.1:${stack.ports[name]}/graphql")`,
  );
  const supergraph = `${logs}/hive-supergraph.graphql`;
  writeFileSync(supergraph, sdl);
  const bin = `${root}node_modules/@graphql-hive/gateway/dist/bin.js`;
  const args = [
    bin,
    'supergraph',
    supergraph,
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--config-path',
    `${root}infra/bench/hive-gateway.config.mjs`,
    '--disable-websockets',
  ];
  const child = spawn(process.execPath, args, { cwd: root, env: { ...stack.env, SHOP_RUN_ID: runId, LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(`${logs}/hive-gateway.log`, { flags: 'a' });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const url = `http://127.0.0.1:${port}/graphql`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new SetupError(`Hive Gateway exited with code ${child.exitCode}; see ${logs}/hive-gateway.log`);
    const answer = await gql(url, '{ __typename }');
    if (answer.data) break;
    if (Date.now() > deadline) throw new SetupError(`Hive Gateway did not answer within 60 s; see ${logs}/hive-gateway.log`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => (clearTimeout(timer), resolve()));
      child.kill('SIGTERM');
    });
  return { url, stop };
}

/** An answer is failed when it did not arrive, carries an error, or has no data. */
const failure = (answer) => answer.transport ?? (answer.errors ? (answer.code ?? 'ERROR') : answer.data ? undefined : 'NO_DATA');

/** `clients` closed-loop clients for `seconds` against one gateway; the same seeded request sequence for both gateways. */
async function runOnce(url, mix, { clients, seconds }, seed) {
  const latencies = new Latencies();
  const failures = new Tally();
  const deadline = performance.now() + seconds * 1000;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const random = seeded(seed * 1000 + c);
      while (performance.now() < deadline) {
        const request = mix(random);
        const answer = await gql(url, request.query, request.variables, request.token);
        latencies.add(answer.ms);
        const failed = failure(answer);
        if (failed) failures.add(`${request.name} ${failed}`);
      }
    }),
  );
  const wallS = (performance.now() - began) / 1000;
  return { latencies, failures, rps: latencies.count / wallS, p95: latencies.summary().p95 };
}

async function run({ options, stack, runId, logs, interrupted, onCleanup }) {
  const adminToken = await mintClientToken({ userId: `bench-admin-${runId}`, roles: ['admin'] });
  const catalog = await setUpCatalog(stack.gatewayUrl, adminToken, options).catch((error) => {
    throw new SetupError(error.message);
  });
  const tokens = await Promise.all(Array.from({ length: options.buyers }, (_, b) => mintClientToken({ userId: `bench-${runId}-b${b}`, roles: [] })));
  const orderIds = await setUpBuyers(stack.gatewayUrl, tokens, catalog.skuIds, 2).catch((error) => {
    throw new SetupError(error.message);
  });
  say(`set up: ${catalog.productIds.length} products, ${catalog.skuIds.length} SKUs with stock, ${tokens.length} buyers with a cart and 2 orders each`);
  const hive = await startHive(stack, runId, logs);
  onCleanup(hive.stop);
  const gateways = { ours: stack.gatewayUrl, hive: hive.url };
  say(`Hive Gateway ${hive.url}; ours ${stack.gatewayUrl}`);

  const mixes = { anonymous: anonymousMix(catalog), authenticated: authenticatedMix(tokens, orderIds) };
  // The first answers of each gateway and mix fill its plan and connection pools: a short run, not counted.
  for (const [mixName, mix] of Object.entries(mixes)) {
    for (const [name, url] of Object.entries(gateways)) {
      const warm = await runOnce(url, mix, { clients: options.clients, seconds: 3 }, 999);
      if (warm.failures.total) say(`warm-up ${mixName} on ${name}: failures ${warm.failures}`);
    }
  }

  const results = {};
  const loads = [];
  for (const [mixName, mix] of Object.entries(mixes)) {
    results[mixName] = { ours: [], hive: [] };
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? ['ours', 'hive'] : ['hive', 'ours'];
      for (const name of order) {
        if (interrupted()) return 130;
        const result = await runOnce(gateways[name], mix, options, round + 1);
        const load = os.loadavg()[0];
        loads.push(load);
        results[mixName][name].push(result);
        say(
          `${mixName.padEnd(13)} round ${round + 1} ${name.padEnd(4)}  ${result.rps.toFixed(0).padStart(6)} req/s  p95 ${ms(result.p95).padStart(9)}  failed ${result.failures.total}  load ${load.toFixed(2)}`,
        );
      }
    }
  }

  const rows = [];
  let allHold = true;
  for (const [mixName, byGateway] of Object.entries(results)) {
    const total = (name) => {
      const latencies = new Latencies();
      const failures = new Tally();
      let requests = 0;
      let seconds = 0;
      for (const r of byGateway[name]) {
        requests += r.latencies.count;
        seconds += r.latencies.count / r.rps;
        for (const v of r.latencies.values()) latencies.add(v);
        for (const [k, n] of r.failures.entries()) failures.add(k, n);
      }
      return { rps: requests / seconds, p95: latencies.summary().p95, failures };
    };
    const ours = total('ours');
    const peer = total('hive');
    const ratio = ours.rps / peer.rps;
    // A comparison with a failing peer says nothing: the goal holds only when neither gateway failed an answer.
    const holds = ratio >= GOALS[mixName] && ours.failures.total === 0 && peer.failures.total === 0;
    allHold &&= holds;
    rows.push(
      [mixName],
      ['ours: requests/s, p95', `${ours.rps.toFixed(0)}, ${ms(ours.p95)}`],
      ['Hive Gateway: requests/s, p95', `${peer.rps.toFixed(0)}, ${ms(peer.p95)}`],
      ['ratio ours/Hive (requests/s)', ratio.toFixed(2)],
      ['failed answers: ours', String(ours.failures)],
      ['failed answers: Hive', String(peer.failures)],
      [`goal: ratio >= ${GOALS[mixName].toFixed(1)}, no failed answer on either`, holds ? 'holds' : 'does NOT hold'],
    );
  }
  rows.push(
    ['machine'],
    ['load average (1 min) during the runs', `${Math.min(...loads).toFixed(2)} .. ${Math.max(...loads).toFixed(2)}`],
    [
      'load average now (1, 5, 15 min)',
      os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(', '),
    ],
  );
  saySummary(rows);
  say(allHold ? '\nRESULT: every goal holds' : '\nRESULT: a goal does not hold');
  return allHold ? 0 : 1;
}

await runBenchmark({
  title: 'gateway benchmark: ours vs Hive Gateway',
  usage: USAGE,
  readOptions,
  parameters: (o) => [
    ['clients', o.clients],
    ['run length', `${o.seconds} s`],
    ['rounds per gateway and mix', o.rounds],
    ['products / buyers', `${o.products} / ${o.buyers}`],
  ],
  stopping: 'stopping both gateways and the stack, dropping the database',
  failureCode: 2,
  run,
});
