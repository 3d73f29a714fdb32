import { openDatabase, type DatabaseOptions } from './db.js';
import { logger } from './logger.js';
import { stopOnSignals } from './server.js';

/**
 * The command line of a subgraph's dist/index.js, when it is the script node runs:
 *   node dist/index.js           serves until SIGINT/SIGTERM
 *   node dist/index.js migrate   applies the subgraph's migrations and exits (npm run migrate runs
 *                                this for every subgraph, with a role that may change the schema)
 */
export function runSubgraphMain(moduleUrl: string, name: string, database: DatabaseOptions, start: () => Promise<{ stop(): Promise<void> }>): void {
  if (moduleUrl !== `file://${process.argv[1]}`) return;
  const command = process.argv[2];
  if (command === 'migrate') {
    process.env.SERVICE_NAME ??= `${name}-migrate`;
    openDatabase({ ...database, migrate: true, poolMax: 2 })
      .then((orm) => orm.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.fatal({ err: error }, `${name} migrations failed`);
          process.exit(1);
        },
      );
    return;
  }
  if (command !== undefined) {
    process.stderr.write(`unknown command "${command}"; usage: node ${process.argv[1]} [migrate]\n`);
    process.exit(2);
  }
  process.env.SERVICE_NAME ??= name;
  start().then(
    (server) => stopOnSignals(server.stop),
    (error: unknown) => {
      logger.fatal({ err: error }, `${name} failed to start`);
      process.exit(1);
    },
  );
}
