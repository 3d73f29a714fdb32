// Runs the processes of the system in one terminal with one log stream; Ctrl-C stops them all.
//   npm start                          every process, the payment simulator and the storefront dev server
//   npm start -- --no-simulator        without the simulator (set PSP_URL to your provider's)
//   npm start -- --no-web              without the Vite dev server
//   npm start -- --only order,gateway  only the processes named (npm run service -- order runs one alone)
import concurrently from 'concurrently';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_PORTS, processes, root, wiring } from './processes.mjs';

const USAGE = `usage: npm start -- [--no-simulator] [--no-web] [--only name,name]
names: ${[...processes().map((p) => p.name), 'web'].join(', ')}`;
let flags;
try {
  ({ values: flags } = parseArgs({
    options: { 'no-simulator': { type: 'boolean' }, 'no-web': { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  }));
} catch (error) {
  console.error(`${error.message}\n${USAGE}`);
  process.exit(2);
}
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

const ports = { ...DEFAULT_PORTS };
for (const name of Object.keys(ports)) {
  const env = process.env[`${name === 'psp' ? 'PSP' : name === 'web' ? 'STOREFRONT' : name.toUpperCase()}_PORT`];
  if (env) ports[name] = Number(env);
}
const wired = wiring(ports);
// A provider of one's own: keep its address and the callback address the operator set.
if (process.env.PSP_URL) wired.PSP_URL = process.env.PSP_URL;
if (process.env.PAYMENT_CALLBACK_URL) wired.PAYMENT_CALLBACK_URL = process.env.PAYMENT_CALLBACK_URL;
const env = {
  ...process.env,
  ...wired,
  DEMO_DATA: process.env.DEMO_DATA ?? `${root}infra/demo/demo-data.json`,
  NODE_ENV: process.env.NODE_ENV ?? 'development',
};

const known = [...processes().map((p) => p.name), 'web'];
const only = flags.only
  ? flags.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  : undefined;
const unknown = (only ?? []).filter((name) => !known.includes(name));
if (unknown.length > 0) {
  console.error(`unknown process ${unknown.join(', ')}\n${USAGE}`);
  process.exit(2);
}
const wanted = (name) => (only ? only.includes(name) : !(name === 'psp' && flags['no-simulator']) && !(name === 'web' && flags['no-web']));
if (!wanted('psp') && !process.env.PSP_URL && (!only || only.includes('payment'))) {
  console.warn(`the payment simulator is not started and PSP_URL is not set: payment calls ${wired.PSP_URL}`);
}

// exec: the runner signals and waits for the service itself, not an intermediate shell.
const commands = processes()
  .filter((p) => wanted(p.name))
  .map((p) => ({ name: p.name, command: `exec node ${p.script}`, env: { ...env, SERVICE_NAME: p.name } }));
if (wanted('web') && existsSync(`${root}client/package.json`) && existsSync(`${root}client/vite.config.ts`)) {
  commands.push({ name: 'web', command: 'npm run dev -w @shop/client', env });
}
if (commands.length === 0) {
  console.error(`nothing to run\n${USAGE}`);
  process.exit(2);
}
const { result } = concurrently(commands, { prefix: 'name', killOthersOn: ['failure'], cwd: root });

// Ready when the gateway is (or, without it, the first process started).
const first = commands.find((c) => c.name === 'gateway') ?? commands[0];
const readyUrl =
  first.name === 'web' ? `http://127.0.0.1:${ports.web}/` : `http://127.0.0.1:${ports[first.name]}/${first.name === 'psp' ? 'healthz' : 'readyz'}`;
const startedAt = Number(process.env.SHOP_STARTED_AT_MS ?? Date.now());
const gateway = `http://127.0.0.1:${ports.gateway}`;
const deadline = Date.now() + 120_000;
const summary = () => {
  if (first.name !== 'gateway') return `    ${commands.map((c) => `${c.name} on 127.0.0.1:${ports[c.name]}`).join('\n    ')}`;
  const lines = [
    `    GraphQL + Apollo Sandbox   ${gateway}/graphql`,
    `    subscriptions (graphql-ws) ws://127.0.0.1:${ports.gateway}/graphql`,
    wanted('web') ? `    storefront                 http://127.0.0.1:${ports.web}` : undefined,
    wanted('psp') ? `    payment simulator          http://127.0.0.1:${ports.psp}` : undefined,
    `    health / metrics           ${gateway}/readyz  ${gateway}/metrics`,
  ];
  return lines.filter(Boolean).join('\n');
};
(async function waitReady() {
  while (Date.now() < deadline) {
    try {
      const res = await fetch(readyUrl);
      if (res.ok) {
        const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
        console.log(`\n  ✓ ready in ${seconds} s\n${summary()}\n  Ctrl-C stops everything.\n`);
        return;
      }
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  console.error(`not ready after 120 s: see ${readyUrl}`);
})();

result.then(
  () => process.exit(0),
  () => process.exit(1),
);
