import { pino } from 'pino';

/** The process's name: SERVICE_NAME, else the package folder of the script (subgraphs/<name>/dist/...). */
const serviceName = (): string => process.env.SERVICE_NAME ?? /([^/]+)\/dist\/[^/]+\.js$/.exec(process.argv[1] ?? '')?.[1] ?? 'shop';

/** Structured JSON logs, one stream for every process; the service name tags each line. */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: serviceName() },
  timestamp: pino.stdTimeFunctions.isoTime,
  redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], censor: '[redacted]' },
});

export type Logger = typeof logger;
