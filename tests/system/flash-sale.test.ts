import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { redisUrl } from '@shop/kit';
import { eventually } from '@shop/kit/testing';
import { gql, tokenFor } from '../support/gateway-client.js';
import { adminToken, database, seedProduct, systemStack, type Stack } from '../support/system.js';

// The flash sale through two gateways and two order processes sharing their ports in the kernel
// (SO_REUSEPORT, kit shared-port.ts), as behind a Kubernetes Service: the admission is one for the
// cluster (kit flash-admission.ts), not one per process.
const BURST = 10;
let stack: Stack & { databaseUrl: string; runId: string };
let db: ReturnType<typeof database>;
const clients: Client[] = [];
beforeAll(async () => {
  stack = await systemStack({ FLASH_SALE_BURST: String(BURST), FLASH_SALE_RATE: '1', FLASH_SALE_SYNC_MS: '100' }, { gateway: 2, order: 2 }, 'kernel');
  db = database(stack.databaseUrl);
}, 180_000);
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await db?.close();
  await stack?.stop();
});

const PREVIEW = `mutation($i: PreviewOrderInput!) { previewOrder(input: $i) { previewId queuePosition } }`;
const PLACE = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id status } } }`;
let buyerCount = 0;
const buyer = () => tokenFor(`flash-buyer-${Date.now()}-${buyerCount++}`);
const userOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string;
const click = (token: string, skuId: string) => gql(stack.gatewayUrl, PREVIEW, { i: { items: [{ skuId, qty: 1 }] } }, token);
// One clientReqId per preview; the previewId is a signed token longer than a clientReqId may be, so its digest.
const place = (token: string, previewId: string) =>
  gql(stack.gatewayUrl, PLACE, { i: { previewId, clientReqId: `flash-${createHash('sha256').update(previewId).digest('hex').slice(0, 48)}` } }, token);
// A preview is a signed token and writes nothing (subgraphs/order/src/domain/preview-token.ts): orders are the rows a click could leave.
const rowsOf = async (userId: string) =>
  (await db.one<{ orders: number }>(`SELECT count(*)::int AS orders FROM ordering.orders WHERE user_id = $1`, [userId]))!;
const statusOf = async (orderId: string) =>
  (await db.one<{ status: string; cancel_reason: string | null }>(`SELECT status, cancel_reason FROM ordering.orders WHERE id = $1`, [orderId]))!;

/** Connections a replica took on its kind's shared port (read on the replica's own port). */
const sharedPortConnections = async (replica: string): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${stack.ports[replica]}/metrics`)).text();
  return Number(/^http_shared_port_connections_total (\d+)/m.exec(text)?.[1] ?? 0);
};

/** A flash-sale SKU whose sale is open: the first click registers it, inventory publishes its stock to Redis. */
async function openSale(units: number) {
  const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'flash', price: 9900, stock: { 'wh-flash': units }, flashSale: true }]);
  const skuId = skuIds[0]!;
  const first = await eventually(async () => {
    const token = await buyer();
    const res = await click(token, skuId);
    return res.errors?.[0]?.extensions?.reason === 'OPENING' ? undefined : { token, res };
  });
  return { skuId, first };
}

function watch(token: string, orderId: string) {
  const client = createClient({
    url: stack.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
  });
  clients.push(client);
  const messages: { status: string; cancelReason: string | null }[] = [];
  client.subscribe(
    { query: `subscription($id: ID!) { orderStatusChanged(orderId: $id) { status cancelReason } }`, variables: { id: orderId } },
    { next: (m) => void (m.data && messages.push(m.data.orderStatusChanged as never)), error: () => undefined, complete: () => undefined },
  );
  return messages;
}

describe('flash sale across two gateways and two order processes', () => {
  it('admits what one process admits: the burst for the cluster, the rest FLASH_SALE_THROTTLED with a retry hint', async () => {
    const { skuId, first } = await openSale(1000);
    expect(first.res.data!.previewOrder.queuePosition).toBe(1);
    const started = Date.now();
    const tokens = await Promise.all(Array.from({ length: 60 }, buyer));
    const answers = await Promise.all(tokens.map((t) => click(t, skuId)));
    const seconds = (Date.now() - started) / 1000;
    const admitted = answers.filter((a) => a.data?.previewOrder);
    const throttled = answers.filter((a) => a.errors?.[0]?.extensions?.code === 'FLASH_SALE_THROTTLED');
    expect(admitted.length + throttled.length).toBe(60);
    // One process's burst (less the first click's token), plus what the rate (1/s) refilled meanwhile:
    // two processes each with their own bucket would admit twice the burst.
    expect(admitted.length).toBeLessThanOrEqual(BURST - 1 + Math.ceil(seconds));
    expect(admitted.length).toBeGreaterThanOrEqual(BURST - 1);
    expect(throttled[0]!.errors![0]!.extensions).toMatchObject({ reason: 'RATE', skuId, retryAfterMs: expect.any(Number) });
    // Both gateways took connections on the port they share.
    for (const replica of ['gateway-1', 'gateway-2']) expect(await sharedPortConnections(replica), replica).toBeGreaterThan(0);
    // Refused at the edge: nothing written for them.
    for (const t of tokens.filter((_, i) => answers[i]!.errors)) expect(await rowsOf(userOf(t))).toEqual({ orders: 0 });
  });

  it('answers sold out without writing, refuses a second attempt, and sells again once a canceled order returns its unit', async () => {
    const { skuId, first } = await openSale(1);
    const placed = await place(first.token, first.res.data!.previewOrder.previewId);
    expect(placed.data!.placeOrder.order.status).toBe('CREATED');
    const orderId = placed.data!.placeOrder.order.id as string;
    await eventually(async () => ((await statusOf(orderId)).status === 'PENDING_PAYMENT' ? true : undefined), { timeoutMs: 20_000 });

    const late = await buyer();
    const soldOut = await click(late, skuId);
    expect(soldOut.errors![0]!.extensions).toMatchObject({ code: 'STOCK_NOT_ENOUGH', reason: 'SOLD_OUT', skuId });
    // The same answer for a document the gateway's HTTP shortcut does not take (literal arguments, another field beside it).
    const literal = await gql(stack.gatewayUrl, `mutation { me: previewOrder(input: { items: [{ skuId: "${skuId}", qty: 1 }] }) { previewId } }`, {}, late);
    expect(literal.errors![0]!.extensions).toMatchObject({ code: 'STOCK_NOT_ENOUGH', reason: 'SOLD_OUT', skuId });
    expect(await rowsOf(userOf(late))).toEqual({ orders: 0 });

    const again = await click(first.token, skuId);
    expect(again.errors![0]!.extensions).toMatchObject({ code: 'ORDER_ALREADY_EXISTS', orderId, reason: 'ONE_PER_BUYER' });

    const canceled = await gql(stack.gatewayUrl, `mutation($id: ID!) { cancelOrder(orderId: $id) { status } }`, { id: orderId }, first.token);
    expect(canceled.errors).toBeUndefined();
    const resumed = await eventually(
      async () => {
        const res = await click(late, skuId);
        return res.data?.previewOrder ? res : undefined;
      },
      { timeoutMs: 15_000 },
    );
    const second = await place(late, resumed.data!.previewOrder.previewId);
    const secondId = second.data!.placeOrder.order.id as string;
    await eventually(async () => ((await statusOf(secondId)).status === 'PENDING_PAYMENT' ? true : undefined), { timeoutMs: 20_000 });
  });

  it('answers an admitted click with CREATED at once and pushes the outcome to the buyer: PENDING_PAYMENT, or canceled with the reason', async () => {
    const { skuId, first } = await openSale(1);
    const held = await place(first.token, first.res.data!.previewOrder.previewId);
    expect(held.data!.placeOrder.order.status).toBe('CREATED');
    const heldMessages = watch(first.token, held.data!.placeOrder.order.id);
    await eventually(async () => heldMessages.find((m) => m.status === 'PENDING_PAYMENT'), { timeoutMs: 20_000 });
    // The move told Redis the order holds its unit (flash-sale.ts, flashOrderMoved): the buyer's attempt
    // now lives until the payment deadline (ORDER_PAYMENT_TTL_SECONDS, 900 s), no longer the ticket's 30 s.
    const redis = new Redis(redisUrl(), { keyPrefix: `shop:${stack.runId}:` });
    try {
      expect(await redis.get(`flash:${skuId}:buyer:${userOf(first.token)}`)).toBe(held.data!.placeOrder.order.id);
      expect(await redis.pttl(`flash:${skuId}:buyer:${userOf(first.token)}`)).toBeGreaterThan(60_000);
    } finally {
      redis.disconnect();
    }

    // A unit promised at admission that PostgreSQL no longer has (an operator took the stock back meanwhile):
    // the order is written, inventory refuses it, and the buyer hears why.
    const { skuId: other, first: admitted } = await openSale(1);
    const admin = await adminToken();
    const set = await gql(stack.gatewayUrl, `mutation($s: ID!) { setStock(skuId: $s, warehouseId: "wh-flash", onHand: 0) { id } }`, { s: other }, admin);
    expect(set.errors).toBeUndefined();
    const placed = await place(admitted.token, admitted.res.data!.previewOrder.previewId);
    expect(placed.data!.placeOrder.order.status).toBe('CREATED');
    const messages = watch(admitted.token, placed.data!.placeOrder.order.id);
    const outcome = await eventually(async () => messages.find((m) => m.status === 'CANCELED'), { timeoutMs: 20_000 });
    expect(outcome.cancelReason).toBe('OUT_OF_STOCK');
    const read = await gql(
      stack.gatewayUrl,
      `query($id: ID!) { order(id: $id) { status cancelReason } }`,
      { id: placed.data!.placeOrder.order.id },
      admitted.token,
    );
    expect(read.data!.order).toEqual({ status: 'CANCELED', cancelReason: 'OUT_OF_STOCK' });
    // The canceled buyer may try again (the sale is sold out now).
    expect((await click(admitted.token, other)).errors![0]!.extensions).toMatchObject({ reason: 'SOLD_OUT' });
    expect(skuId).not.toBe(other);
  });

  it('keeps a flash SKU in buckets: buyers placing at once, all units piled in one bucket, hold exactly the units, rebalanced, the invariant holding throughout', async () => {
    const units = 8;
    const { skuId, first } = await openSale(units);
    const buckets = await db.all<{ bucket: number }>(`SELECT bucket FROM inventory.stock WHERE sku_id = $1 ORDER BY bucket`, [skuId]);
    expect(buckets.length).toBeGreaterThan(1);
    // Every unit in bucket 0: the others are empty, so reservations must rebalance to take from them.
    await db.all(`UPDATE inventory.stock SET available = CASE WHEN bucket = 0 THEN $2::int ELSE 0 END WHERE sku_id = $1`, [skuId, units]);
    const sumsOf = () =>
      db.one<{ available: number; reserved: number; sold: number; low: number }>(
        `SELECT sum(available)::int AS available, sum(reserved)::int AS reserved, sum(sold)::int AS sold, least(min(available), min(reserved), min(sold))::int AS low
           FROM inventory.stock WHERE sku_id = $1`,
        [skuId],
      );
    let sampling = true;
    const broken: unknown[] = [];
    const sampler = (async () => {
      while (sampling) {
        const sums = (await sumsOf())!;
        if (sums.available + sums.reserved + sums.sold !== units || sums.low < 0) broken.push(sums);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const others = await Promise.all(Array.from({ length: units - 1 }, () => buyer()));
    const clicks = await Promise.all(others.map(async (token) => ({ token, res: await click(token, skuId) })));
    const admitted = [first, ...clicks].filter((c) => c.res.data?.previewOrder);
    expect(admitted).toHaveLength(units);
    const placed = await Promise.all(admitted.map((c) => place(c.token, c.res.data!.previewOrder.previewId)));
    const orderIds = placed.map((p) => p.data!.placeOrder.order.id as string);
    await eventually(async () => ((await Promise.all(orderIds.map(statusOf))).every((o) => o.status === 'PENDING_PAYMENT') ? true : undefined), {
      timeoutMs: 30_000,
    });
    sampling = false;
    await sampler;
    expect(broken).toEqual([]);
    expect(await sumsOf()).toEqual({ available: 0, reserved: units, sold: 0, low: 0 });
    const holds = await db.all<{ bucket: number; n: number }>(
      `SELECT bucket, sum(qty)::int AS n FROM inventory.reservation WHERE sku_id = $1 AND state = 'HOLD' GROUP BY bucket ORDER BY bucket`,
      [skuId],
    );
    expect(holds.reduce((n, h) => n + h.n, 0)).toBe(units);
    expect(holds.some((h) => h.bucket !== 0)).toBe(true);
    // Per bucket, reserved is what its holds took (subgraphs/inventory/src/domain/invariants.ts, per bucket).
    const rows = await db.all<{ bucket: number; reserved: number }>(`SELECT bucket, reserved FROM inventory.stock WHERE sku_id = $1`, [skuId]);
    for (const row of rows) expect(row.reserved).toBe(holds.find((h) => h.bucket === row.bucket)?.n ?? 0);
    const sku = await gql(stack.gatewayUrl, `query($id: ID!) { sku(id: $id) { available } }`, { id: skuId }, await adminToken());
    expect(sku.data).toEqual({ sku: { available: 0 } });
  });
});
