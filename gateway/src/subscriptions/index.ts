import { logger } from '@shop/kit';
import { subscriptionSchema } from './schema.js';
import { startSubscriptionServer, type SubscriptionServer, type SubscriptionServerOptions } from './ws-server.js';

export { subscriptionsOverHttpRefused } from './http-guard.js';
export { orderEvents, type OrderEventHub } from './order-events.js';
export { limitsFromEnv, type SubscriptionLimits, type SubscriptionServer } from './ws-server.js';

/**
 * Attaches the graphql-ws server to the gateway's HTTP server. A supergraph without orders (a partial
 * composition in development) cannot serve orderStatusChanged: the gateway then runs without
 * subscriptions and says so, instead of refusing to start.
 */
export async function attachSubscriptions(
  options: Omit<SubscriptionServerOptions, 'schema'> & { supergraphSdl: string },
): Promise<SubscriptionServer | undefined> {
  let schema;
  try {
    schema = subscriptionSchema(options.supergraphSdl);
  } catch (err) {
    logger.warn({ err }, 'subscriptions disabled');
    return undefined;
  }
  return startSubscriptionServer({ ...options, schema });
}
