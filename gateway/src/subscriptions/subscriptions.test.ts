import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, eventually, user } from '@shop/kit/testing';
import { createRedis, mintClientToken, registry, type Identity } from '@shop/kit';
import { orderEvents } from './order-events.js';
import {
  bearer,
  cancelOrder,
  connect,
  nthMessage,
  placeOrder,
  refusal,
  startGateway,
  startStack,
  watch,
  type RunningGateway,
  type Stack,
  type WsClient,
} from './test-support.js';

/** Fragments and variables of the client's document are carried into the refetch, federated fields included. */
const WATCH = `
  subscription Watch($id: ID!, $withItems: Boolean!) {
    orderStatusChanged(orderId: $id) { ...OrderBits items @include(if: $withItems) { qty sku { id title } } }
  }
  fragment OrderBits on Order { id status cancelReason }`;
const SIMPLE = `subscription($id: ID!) { orderStatusChanged(orderId: $id) { id status } }`;

let stack: Stack;
let gw: RunningGateway;
const clients: WsClient[] = [];

beforeAll(async () => {
  stack = await startStack();
  gw = await startGateway();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await gw?.stop();
  await stack?.stop();
});

const connectAs = async (target: RunningGateway, identity: Identity) => {
  const ws = connect(target.wsUrl, await bearer(identity));
  clients.push(ws);
  return ws;
};
const gauge = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;

describe('orderStatusChanged over graphql-ws', () => {
  it('sends the owner the order as it is, then each status change (PENDING_PAYMENT, then CANCELED)', async () => {
    const buyer = user();
    const order = await placeOrder(stack, gw.url, buyer);
    const ws = await connectAs(gw, buyer);
    const sub = watch(ws, WATCH, { id: order.id, withItems: true });

    const first = await nthMessage(sub, 0);
    expect(first.errors).toBeUndefined();
    expect(first.data).toEqual({
      orderStatusChanged: {
        id: order.id,
        status: 'PENDING_PAYMENT',
        cancelReason: null,
        items: [{ qty: 1, sku: { id: order.skuId, title: 'one' } }],
      },
    });

    // Events that are not newer than what was pushed change nothing (duplicates, redeliveries, stale replays).
    orderEvents.dispatch({ orderId: order.id, version: 1, correlationId: 'stale' });
    await cancelOrder(gw.url, buyer, order.id);

    const second = await nthMessage(sub, 1);
    expect(second.data?.orderStatusChanged).toMatchObject({ id: order.id, status: 'CANCELED', cancelReason: 'USER_CANCELED' });
    // The event's redelivery or a late duplicate pushes nothing more; a new subscription starts from CANCELED.
    orderEvents.dispatch({ orderId: order.id, version: 999, correlationId: 'ahead-of-itself' });
    const later = watch(ws, SIMPLE, { id: order.id });
    expect((await nthMessage(later, 0)).data).toEqual({ orderStatusChanged: { id: order.id, status: 'CANCELED' } });
    expect(sub.messages).toHaveLength(2);
    expect(sub.error).toBeUndefined();
  });

  it('lets an admin watch any order, and keeps an alias the client chose', async () => {
    const buyer = user();
    const order = await placeOrder(stack, gw.url, buyer);
    const ws = await connectAs(gw, admin());
    const sub = watch(ws, `subscription($id: ID!) { mine: orderStatusChanged(orderId: $id) { status } }`, { id: order.id });
    expect((await nthMessage(sub, 0)).data).toEqual({ mine: { status: 'PENDING_PAYMENT' } });
  });

  it("refuses someone else's order with FORBIDDEN, and malformed or unknown ids with BAD_USER_INPUT", async () => {
    const order = await placeOrder(stack, gw.url, user());
    const ws = await connectAs(gw, user());
    const cases: [string, string, RegExp][] = [
      [order.id, 'FORBIDDEN', /not yours/],
      ['not-an-order', 'BAD_USER_INPUT', /orderId/],
      ['ord_00000000000000000000000000000000', 'BAD_USER_INPUT', /no order/],
    ];
    for (const [id, code, message] of cases) {
      const sub = watch(ws, SIMPLE, { id });
      const errors = (await refusal(sub)) as { message: string; extensions?: { code?: string } }[];
      expect(errors[0]).toMatchObject({ extensions: { code } });
      expect(errors[0]!.message).toMatch(message);
      expect(sub.messages).toEqual([]);
    }
    // A document that does not validate never reaches a subgraph.
    const invalid = watch(ws, `subscription { orderStatusChanged(orderId: "x") { nope } }`);
    expect(await refusal(invalid)).toMatchObject([{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }]);
  });

  it('closes a connection without a valid token with 4401 UNAUTHENTICATED', async () => {
    for (const authorization of [undefined, 'Bearer not-a-jwt', 'Basic abc']) {
      const ws = connect(gw.wsUrl, authorization);
      clients.push(ws);
      const sub = watch(ws, SIMPLE, { id: 'ord_00000000000000000000000000000000' });
      const closed = (await refusal(sub)) as { code: number; reason: string };
      expect({ code: closed.code, reason: String(closed.reason) }).toEqual({ code: 4401, reason: expect.stringMatching(/^UNAUTHENTICATED: /) });
      expect(sub.messages).toEqual([]);
    }
  });

  it('closes a connection with 4401 when its token expires', async () => {
    const buyer = user();
    const { id } = await placeOrder(stack, gw.url, buyer);
    const ws = connect(gw.wsUrl, `Bearer ${await mintClientToken(buyer, 2)}`);
    clients.push(ws);
    const sub = watch(ws, SIMPLE, { id });
    await eventually(async () => (sub.messages.length === 1 ? true : undefined));
    const closed = await eventually(async () => ws.closes[0], { timeoutMs: 10_000 });
    expect(closed).toEqual({ code: 4401, reason: expect.stringMatching(/^UNAUTHENTICATED: .*expired/) });
  });

  it('runs a query sent over the socket through the same path as HTTP', async () => {
    const buyer = user();
    const order = await placeOrder(stack, gw.url, buyer);
    const ws = await connectAs(gw, buyer);
    const res = watch(ws, `query($id: ID!) { order(id: $id) { status } }`, { id: order.id });
    expect((await nthMessage(res, 0)).data).toEqual({ order: { status: 'PENDING_PAYMENT' } });
    await eventually(async () => res.completed || undefined);
  });
});

describe('several gateways, resources and limits', () => {
  let second: RunningGateway;
  beforeAll(async () => {
    second = await startGateway({ subscriptionLimits: { maxPerConnection: 2 } });
  });
  afterAll(async () => {
    await second?.stop();
  });

  it('notifies the clients of every gateway, over one RabbitMQ consumer per process', async () => {
    const buyer = user();
    const order = await placeOrder(stack, gw.url, buyer);
    const onFirst = watch(await connectAs(gw, buyer), SIMPLE, { id: order.id });
    const onSecond = watch(await connectAs(second, buyer), SIMPLE, { id: order.id });
    await nthMessage(onFirst, 0);
    await nthMessage(onSecond, 0);
    expect(await orderEvents.consumerCount()).toBe(1);

    await cancelOrder(second.url, buyer, order.id);
    for (const sub of [onFirst, onSecond]) expect((await nthMessage(sub, 1)).data).toEqual({ orderStatusChanged: { id: order.id, status: 'CANCELED' } });
  });

  it('serves subscribers of one order with the same identity from one shared read per event', async () => {
    const buyer = user();
    const order = await placeOrder(stack, gw.url, buyer);
    const tabs = [];
    for (let i = 0; i < 5; i++) tabs.push(watch(await connectAs(gw, buyer), SIMPLE, { id: order.id }));
    for (const tab of tabs) await nthMessage(tab, 0);
    const reads = async () => {
      const values = (await registry.getSingleMetric('graphql_ws_order_reads_total')!.get()).values;
      const of = (shared: string) => values.filter((v) => v.labels.shared === shared).reduce((n, v) => n + v.value, 0);
      return { unshared: of('false'), shared: of('true') };
    };
    const before = await reads();
    await cancelOrder(gw.url, buyer, order.id);
    for (const tab of tabs) expect((await nthMessage(tab, 1)).data).toEqual({ orderStatusChanged: { id: order.id, status: 'CANCELED' } });
    const after = await reads();
    expect(after.unshared - before.unshared + (after.shared - before.shared)).toBe(5);
    expect(after.unshared - before.unshared).toBeLessThanOrEqual(2);
  });

  it('frees listeners and gauges when a client disconnects', async () => {
    const buyer = user();
    const [a, b] = [await placeOrder(stack, gw.url, buyer), await placeOrder(stack, gw.url, buyer)];
    const listeners = orderEvents.listenerCount();
    const subscriptions = await gauge('graphql_ws_subscriptions');
    const connections = await gauge('graphql_ws_connections');

    const ws = connect(gw.wsUrl, await bearer(buyer));
    const subs = [watch(ws, SIMPLE, { id: a.id }), watch(ws, SIMPLE, { id: b.id }), watch(ws, SIMPLE, { id: a.id })];
    for (const sub of subs) await nthMessage(sub, 0);
    expect(orderEvents.listenerCount()).toBe(listeners + 3);
    expect(orderEvents.listenerCount(a.id)).toBe(2);
    expect(await gauge('graphql_ws_subscriptions')).toBe(subscriptions + 3);
    expect(await gauge('graphql_ws_connections')).toBe(connections + 1);

    subs[2]!.unsubscribe();
    await eventually(async () => (orderEvents.listenerCount(a.id) === 1 ? true : undefined));

    await ws.dispose();
    await eventually(async () => (orderEvents.listenerCount() === listeners ? true : undefined));
    await eventually(async () => ((await gauge('graphql_ws_subscriptions')) === subscriptions ? true : undefined));
    await eventually(async () => ((await gauge('graphql_ws_connections')) === connections ? true : undefined));
    expect(await orderEvents.consumerCount()).toBe(1);
  });

  it('refuses subscriptions beyond the per-connection limit, and accepts again once one completes', async () => {
    const buyer = user();
    const order = await placeOrder(stack, gw.url, buyer);
    const ws = await connectAs(second, buyer);
    const before = second.gateway.subscriptions!.stats().subscriptions;
    const [one, two] = [watch(ws, SIMPLE, { id: order.id }), watch(ws, SIMPLE, { id: order.id })];
    await nthMessage(one, 0);
    await nthMessage(two, 0);

    const three = watch(ws, SIMPLE, { id: order.id });
    const errors = (await refusal(three)) as { message: string; extensions?: { code?: string; limit?: number } }[];
    expect(errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', limit: 2 } });

    one.unsubscribe();
    await eventually(async () => (second.gateway.subscriptions!.stats().subscriptions === before + 1 ? true : undefined));
    const four = watch(ws, SIMPLE, { id: order.id });
    expect((await nthMessage(four, 0)).data).toEqual({ orderStatusChanged: { id: order.id, status: 'PENDING_PAYMENT' } });
  });

  it('counts operations over the socket against the same per-user rate limit as HTTP, and ends one over it with RATE_LIMITED', async () => {
    const namespace = `ws-rate-limit-${Date.now()}`;
    const limited = await startGateway({ rateLimits: { user: 3 }, rateLimitNamespace: namespace });
    const probe = createRedis({ name: 'ws-rate-limit-test' });
    try {
      const buyer = user();
      const request = async (identity: Identity) =>
        fetch(limited.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: await bearer(identity) },
          body: JSON.stringify({ query: '{ __typename }' }),
        });
      // Until the new gateway's Redis connection is ready it counts in memory: wait until another user's requests reach Redis.
      const warmUp = user();
      await eventually(async () => ((await request(warmUp)) && (await probe.exists(`ratelimit:${namespace}:user:${warmUp.userId}`)) ? true : undefined));
      // One HTTP request and two operations over the socket spend the budget of 3.
      expect((await request(buyer)).status).toBe(200);
      const ws = await connectAs(limited, buyer);
      for (let i = 0; i < 2; i++) expect((await nthMessage(watch(ws, '{ __typename }'), 0)).data).toEqual({ __typename: 'Query' });

      // The next query and a subscription on the socket end with RATE_LIMITED and a retry hint; HTTP answers 429.
      for (const refused of [watch(ws, '{ __typename }'), watch(ws, SIMPLE, { id: 'ord_rate_limited' })]) {
        const errors = (await refusal(refused)) as { message: string; extensions?: { code?: string; retryAfterMs?: number } }[];
        expect(errors[0]!.extensions?.code).toBe('RATE_LIMITED');
        expect(errors[0]!.extensions?.retryAfterMs).toBeGreaterThan(0);
        expect(errors[0]!.extensions?.retryAfterMs).toBeLessThanOrEqual(60_000);
        expect(errors[0]!.message).toMatch(/at most 3 every 60 s/);
        expect(refused.messages).toEqual([]);
      }
      expect((await request(buyer)).status).toBe(429);
      // Only the connection's operations were refused (the client closes an idle socket itself, 1000), and another user has a budget of their own.
      expect(ws.closes.filter((c) => c.code !== 1000)).toEqual([]);
      const other = await connectAs(limited, user());
      expect((await nthMessage(watch(other, '{ __typename }'), 0)).data).toEqual({ __typename: 'Query' });
    } finally {
      probe.disconnect();
      await limited.stop();
    }
  });

  it('completes open subscriptions and closes its sockets when a gateway stops', async () => {
    const third = await startGateway();
    const buyer = user();
    const order = await placeOrder(stack, gw.url, buyer);
    const listeners = orderEvents.listenerCount();
    const ws = connect(third.wsUrl, await bearer(buyer));
    clients.push(ws);
    const sub = watch(ws, SIMPLE, { id: order.id });
    await nthMessage(sub, 0);

    await third.stop();
    await eventually(async () => sub.completed || undefined);
    expect(sub.error).toBeUndefined();
    await eventually(async () => ws.closes[0]);
    expect(ws.closes[0]!.code).toBe(1001);
    expect(orderEvents.listenerCount()).toBe(listeners);
    // The other gateways of the process keep their event feed.
    expect(await orderEvents.consumerCount()).toBe(1);
  });
});
