/**
 * Test harness for orderStatusChanged (not compiled into dist): the subgraphs in-process, gateways on
 * port 0, graphql-ws clients with real tokens, and order actions through the gateway. A system test of
 * PAID -> SHIPPED adds the payment and fulfillment subgraphs to `startStack` and drives their flows.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { mintClientToken, type Identity } from '@shop/kit';
import { closedPort, eventually, type GraphQLResponse } from '@shop/kit/testing';
import { start as startCatalog } from '@shop/catalog';
import { start as startInventory } from '@shop/inventory';
import { start as startOrder } from '@shop/order';
import { createStockedSku } from '../../../tests/support/fixtures.js';
import { createGateway, type Gateway, type GatewayOptions } from '../gateway.js';

type Server = { url: string; stop(): Promise<void> };

export interface Stack {
  catalog: Server;
  inventory: Server;
  order: Server;
  stop(): Promise<void>;
}

/** catalog, inventory and order in-process; cart, payment and fulfillment point at a closed port. */
export async function startStack(): Promise<Stack> {
  const dead = `http://127.0.0.1:${await closedPort()}/graphql`;
  for (const name of ['CART', 'PAYMENT', 'FULFILLMENT']) process.env[`${name}_URL`] = dead;
  const catalog = await startCatalog(0);
  process.env.CATALOG_URL = catalog.url;
  const inventory = await startInventory(0);
  process.env.INVENTORY_URL = inventory.url;
  const order = await startOrder(0);
  process.env.ORDER_URL = order.url;
  return {
    catalog,
    inventory,
    order,
    async stop() {
      await order.stop();
      await inventory.stop();
      await catalog.stop();
    },
  };
}

export interface RunningGateway {
  gateway: Gateway;
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
}

export async function startGateway(options: GatewayOptions = {}): Promise<RunningGateway> {
  const gateway = await createGateway(options);
  const { url } = await gateway.start(0);
  return { gateway, url, wsUrl: url.replace(/^http/, 'ws'), stop: () => gateway.stop() };
}

export const bearer = async (identity: Identity) => `Bearer ${await mintClientToken(identity)}`;

/** A GraphQL POST to the gateway as `identity`. */
export async function post<T = any>(url: string, query: string, variables: Record<string, unknown>, identity?: Identity): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (identity) headers.authorization = await bearer(identity);
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as GraphQLResponse<T>;
}

/** Places a PENDING_PAYMENT order for `buyer` through the gateway (preview, then place). */
export async function placeOrder(stack: Stack, gatewayUrl: string, buyer: Identity): Promise<{ id: string; skuId: string }> {
  const skuId = await createStockedSku({ catalog: stack.catalog.url, inventory: stack.inventory.url }, { title: `Watched tea ${randomUUID().slice(0, 6)}` });
  const preview = await post(
    gatewayUrl,
    `mutation($i: PreviewOrderInput!) { previewOrder(input: $i) { previewId } }`,
    { i: { items: [{ skuId, qty: 1 }] } },
    buyer,
  );
  if (preview.errors) throw new Error(`previewOrder: ${JSON.stringify(preview.errors)}`);
  const placed = await post(
    gatewayUrl,
    `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id status } } }`,
    { i: { previewId: preview.data.previewOrder.previewId, clientReqId: `ws-${randomUUID()}` } },
    buyer,
  );
  if (placed.errors) throw new Error(`placeOrder: ${JSON.stringify(placed.errors)}`);
  return { id: placed.data.placeOrder.order.id, skuId };
}

export async function cancelOrder(gatewayUrl: string, buyer: Identity, orderId: string): Promise<void> {
  const res = await post(gatewayUrl, `mutation($id: ID!) { cancelOrder(orderId: $id) { id status } }`, { id: orderId }, buyer);
  if (res.errors) throw new Error(`cancelOrder: ${JSON.stringify(res.errors)}`);
}

export interface Closed {
  code: number;
  reason: string;
}

/** A graphql-ws client that never retries, recording how its socket closed. */
export interface WsClient {
  client: Client;
  closes: Closed[];
  dispose(): Promise<void>;
}

export function connect(wsUrl: string, authorization?: string): WsClient {
  const closes: Closed[] = [];
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: authorization === undefined ? {} : { authorization },
    retryAttempts: 0,
    shouldRetry: () => false,
    on: { closed: (event) => void closes.push({ code: (event as Closed).code, reason: String((event as Closed).reason) }) },
  });
  return { client, closes, dispose: () => Promise.resolve(client.dispose()) };
}

/** One subscription's record: every `next` payload, the error it ended with, whether it completed. */
export interface Watch {
  messages: FormattedExecutionResult<Record<string, any>>[];
  error?: unknown;
  completed: boolean;
  unsubscribe(): void;
}

export function watch(ws: WsClient, query: string, variables: Record<string, unknown> = {}): Watch {
  const record: Watch = { messages: [], completed: false, unsubscribe: () => undefined };
  record.unsubscribe = ws.client.subscribe<Record<string, any>>(
    { query, variables },
    {
      next: (message) => void record.messages.push(message),
      error: (error) => void (record.error = error),
      complete: () => void (record.completed = true),
    },
  );
  return record;
}

/** Waits for the n-th message (0-based) of a watch; fails at once if the subscription errored. */
export function nthMessage(record: Watch, n: number): Promise<FormattedExecutionResult<Record<string, any>>> {
  return eventually(async () => {
    if (record.error !== undefined) throw new Error(`subscription failed: ${JSON.stringify(record.error)}`);
    return record.messages[n];
  });
}

/** Waits for the error a subscription was refused with (graphql-ws error messages arrive as an array). */
export const refusal = (record: Watch) =>
  eventually(async () => record.error as { message: string; extensions?: { code?: string } }[] | { code: number; reason: string } | undefined);
