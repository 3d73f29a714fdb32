import { Counter, Gauge } from 'prom-client';
import { registry } from '@shop/kit';

/** Open graphql-ws sockets of this process (all gateways in it). */
export const wsConnections = new Gauge({
  name: 'graphql_ws_connections',
  help: 'Open graphql-ws connections to the gateway',
  registers: [registry],
});

/** Live orderStatusChanged subscriptions of this process. */
export const wsSubscriptions = new Gauge({
  name: 'graphql_ws_subscriptions',
  help: 'Active GraphQL subscriptions served by the gateway',
  registers: [registry],
});

/** Reads of an order made for subscribers: one per subscriber and event unless shared. */
export const wsOrderReads = new Counter({
  name: 'graphql_ws_order_reads_total',
  help: 'Order reads run through the query path for subscriptions, by whether the read was shared with identical ones in flight',
  labelNames: ['shared'] as const,
  registers: [registry],
});
