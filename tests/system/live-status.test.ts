import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { eventually } from '@shop/kit/testing';
import { gql, tokenFor } from '../support/gateway-client.js';
import { adminToken, payOnSimulator, placeOrder, seedProduct, systemStack, type Stack } from '../support/system.js';

let stack: Stack;
const clients: Client[] = [];
beforeAll(async () => {
  stack = await systemStack();
}, 120_000);
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await stack?.stop();
});

function connect(token?: string): Client {
  const client = createClient({
    url: stack.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
  clients.push(client);
  return client;
}

function watch(client: Client, orderId: string) {
  const messages: any[] = [];
  const errors: any[] = [];
  client.subscribe(
    {
      query: `subscription($id: ID!) { orderStatusChanged(orderId: $id) { status payment { status } shipments { status items { sku { title } } } } }`,
      variables: { id: orderId },
    },
    {
      next: (m) => (m.errors ? errors.push(...m.errors) : messages.push(m.data!.orderStatusChanged)),
      error: (e) => (Array.isArray(e) ? errors.push(...e) : errors.push(e)),
      complete: () => undefined,
    },
  );
  return { messages, errors };
}

describe('live order status over graphql-ws', () => {
  it('pushes PENDING_PAYMENT → PAID → SHIPPED to the owner, in order, with federated fields, and refuses others', async () => {
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'live', price: 8800, stock: { 'wh-a': 3 } }]);
    const buyer = await tokenFor(`watcher-${Date.now()}`);
    const order = await placeOrder(stack.gatewayUrl, buyer, [{ skuId: skuIds[0]!, qty: 1 }]);

    const mine = watch(connect(buyer), order.id);
    const theirs = watch(connect(await tokenFor('someone-else')), order.id);
    await eventually(async () => (mine.messages.length >= 1 ? true : undefined));
    expect(mine.messages[0]).toMatchObject({ status: 'PENDING_PAYMENT', payment: null, shipments: [] });
    await eventually(async () => (theirs.errors.length > 0 ? true : undefined));
    expect(theirs.errors[0].extensions?.code ?? theirs.errors[0].message).toMatch(/FORBIDDEN/);

    await payOnSimulator(stack.gatewayUrl, buyer, order.id);
    const paid = await eventually(async () => mine.messages.find((m) => m.status === 'PAID'), { timeoutMs: 20_000 });
    expect(paid.payment).toEqual({ status: 'SUCCEEDED' });
    const shipment = await eventually(
      async () => {
        const o = (await gql(stack.gatewayUrl, `query($id: ID!) { order(id: $id) { shipments { id } } }`, { id: order.id }, buyer)).data!.order;
        return o.shipments[0]?.id as string | undefined;
      },
      { timeoutMs: 20_000 },
    );
    const admin = await adminToken();
    await gql(stack.gatewayUrl, `mutation($id: ID!) { packShipment(shipmentId: $id) { status } }`, { id: shipment }, admin);
    await gql(stack.gatewayUrl, `mutation($id: ID!) { shipShipment(shipmentId: $id, trackingNumber: "SF-LIVE") { status } }`, { id: shipment }, admin);
    const shipped = await eventually(async () => mine.messages.find((m) => m.status === 'SHIPPED'), { timeoutMs: 20_000 });
    expect(shipped.shipments).toEqual([{ status: 'SHIPPED', items: [{ sku: { title: 'live' } }] }]);
    expect(mine.messages.map((m) => m.status)).toEqual(['PENDING_PAYMENT', 'PAID', 'SHIPPED']);
    expect(mine.errors).toEqual([]);
  });

  it('closes a connection without a token as UNAUTHENTICATED', async () => {
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      const client = createClient({
        url: stack.wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        on: { closed: (e: any) => resolve({ code: e.code, reason: e.reason }) },
      });
      clients.push(client);
      client.subscribe(
        { query: `subscription { orderStatusChanged(orderId: "ord_00000000000000000000000000000000") { status } }` },
        { next: () => undefined, error: () => undefined, complete: () => undefined },
      );
    });
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/UNAUTHENTICATED/);
  });

  it('notifies clients of two separate gateway processes, each with its own event queue', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as net.AddressInfo;
        server.close(() => resolve(p));
      });
    });
    const second: ChildProcess = spawn(process.execPath, ['gateway/dist/index.js'], {
      env: { ...stack.env, GATEWAY_PORT: String(port), SERVICE_NAME: 'gateway-2' },
      stdio: 'ignore',
    });
    try {
      await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok ? true : undefined), { timeoutMs: 30_000 });
      const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'two gateways', price: 500, stock: { 'wh-a': 2 } }]);
      const buyer = await tokenFor(`twogw-${Date.now()}`);
      const order = await placeOrder(stack.gatewayUrl, buyer, [{ skuId: skuIds[0]!, qty: 1 }]);
      const onFirst = watch(connect(buyer), order.id);
      const otherClient = createClient({
        url: `ws://127.0.0.1:${port}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${buyer}` },
        retryAttempts: 0,
      });
      clients.push(otherClient);
      const onSecond = watch(otherClient, order.id);
      await eventually(async () => (onFirst.messages.length >= 1 && onSecond.messages.length >= 1 ? true : undefined));
      await gql(stack.gatewayUrl, `mutation($id: ID!) { cancelOrder(orderId: $id) { status } }`, { id: order.id }, buyer);
      for (const watcher of [onFirst, onSecond]) {
        const canceled = await eventually(async () => watcher.messages.find((m) => m.status === 'CANCELED'), { timeoutMs: 20_000 });
        expect(canceled.status).toBe('CANCELED');
      }
    } finally {
      second.kill('SIGTERM');
    }
  });
});
