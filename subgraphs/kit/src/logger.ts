import { pino } from 'pino';

/** Structured JSON logs, one stream for every process; SERVICE_NAME tags each line. */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: process.env.SERVICE_NAME ?? 'shop' },
  timestamp: pino.stdTimeFunctions.isoTime,
  redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], censor: '[redacted]' },
});

export type Logger = typeof logger;
