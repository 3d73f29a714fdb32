// Runs every process of the system in one terminal with one log stream; Ctrl-C stops them all.
import concurrently from 'concurrently';
import { existsSync } from 'node:fs';
import { DEFAULT_PORTS, processes, root, wiring } from './processes.mjs';

const ports = { ...DEFAULT_PORTS };
for (const name of Object.keys(ports)) {
  const env = process.env[`${name === 'psp' ? 'PSP' : name === 'web' ? 'STOREFRONT' : name.toUpperCase()}_PORT`];
  if (env) ports[name] = Number(env);
}
const env = {
  ...process.env,
  ...wiring(ports),
  DEMO_DATA: process.env.DEMO_DATA ?? `${root}infra/demo/demo-data.json`,
  NODE_ENV: process.env.NODE_ENV ?? 'development',
};

// exec: the runner signals and waits for the service itself, not an intermediate shell.
const commands = processes().map((p) => ({ name: p.name, command: `exec node ${p.script}`, env: { ...env, SERVICE_NAME: p.name } }));
if (existsSync(`${root}client/package.json`) && existsSync(`${root}client/vite.config.ts`)) {
  commands.push({ name: 'web', command: 'npm run dev -w @shop/client', env });
}
const { result } = concurrently(commands, { prefix: 'name', killOthersOn: ['failure'], cwd: root });

const startedAt = Number(process.env.SHOP_STARTED_AT_MS ?? Date.now());
const gateway = `http://127.0.0.1:${ports.gateway}`;
const deadline = Date.now() + 120_000;
(async function waitReady() {
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${gateway}/readyz`);
      if (res.ok) {
        const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
        console.log(`\n  ✓ ready in ${seconds} s
    GraphQL + Apollo Sandbox   ${gateway}/graphql
    subscriptions (graphql-ws) ws://127.0.0.1:${ports.gateway}/graphql
    storefront                 http://127.0.0.1:${ports.web}
    payment simulator          http://127.0.0.1:${ports.psp}
    health / metrics           ${gateway}/readyz  ${gateway}/metrics
  Ctrl-C stops everything.\n`);
        return;
      }
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  console.error(`gateway not ready after 120 s: see ${gateway}/readyz`);
})();

result.then(
  () => process.exit(0),
  () => process.exit(1),
);
