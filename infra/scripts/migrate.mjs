// npm run migrate: applies every subgraph's pending migrations, one subgraph after the other, then
// exits. Run it with a role that may create schemas and tables (DATABASE_URL), before the services
// start with MIGRATE_ON_START=false and a role that has data rights only (docs/production.md).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { root, SUBGRAPHS } from './processes.mjs';

const run = (name) =>
  new Promise((resolve) => {
    const script = `subgraphs/${name}/dist/index.js`;
    if (!existsSync(`${root}${script}`)) return resolve(`${script} is not built (npx turbo run build)`);
    const child = spawn(process.execPath, [script, 'migrate'], { cwd: root, stdio: 'inherit', env: { ...process.env, SERVICE_NAME: `${name}-migrate` } });
    child.once('exit', (code, signal) => resolve(code === 0 ? undefined : `exited with ${signal ?? `code ${code}`}`));
  });

const started = Date.now();
for (const name of SUBGRAPHS) {
  const failure = await run(name);
  if (failure) {
    console.error(`✗ migrating ${name} failed: ${failure}`);
    process.exit(1);
  }
}
console.log(`✓ migrations applied for ${SUBGRAPHS.join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
