import { Connection } from 'rabbitmq-client';
import { amqpUrl } from '../config.js';
import { logger } from '../logger.js';

/**
 * Broker names. SHOP_RUN_ID (set by the test harness) prefixes every name, so concurrent test runs
 * and a developer's `npm start` on the same broker never see each other's messages.
 */
const prefix = (): string => (process.env.SHOP_RUN_ID ? `${process.env.SHOP_RUN_ID}.` : '');
export const eventsExchange = (): string => `${prefix()}shop.events`;
export const deadLetterExchange = (): string => `${prefix()}shop.dlx`;
export const queueName = (service: string, consumer: string): string => `${prefix()}${service}.${consumer}`;
export const deadLetterQueue = (queue: string): string => `${queue}.dlq`;

/** A broker connection that reconnects by itself; one per process. */
export function connectBroker(name: string): Connection {
  const connection = new Connection({ url: amqpUrl(), connectionName: name, retryLow: 200, retryHigh: 5000 });
  connection.on('error', (err) => logger.warn({ err }, 'broker connection error'));
  connection.on('connection', () => logger.info('broker connected'));
  return connection;
}

/** Readiness check: the connection is open (the client reconnects in the background). */
export async function checkBroker(connection: Connection): Promise<void> {
  if (!connection.ready) throw new Error('RabbitMQ is not connected');
}

/** Test runs leave nothing behind: their queues expire 10 minutes after their last consumer left. */
export const testQueueExpiry = (): Record<string, number> => (process.env.SHOP_RUN_ID ? { 'x-expires': 600_000 } : {});
