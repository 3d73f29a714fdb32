import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBroker, eventsExchange, newId, queueName } from '@shop/kit';
import { admin, callSubgraph, errorCode, eventually, user } from '@shop/kit/testing';
import type { EventType } from '@shop/schema';
import { SHIPMENT_STATUSES, SHIPMENT_TRANSITIONS, canTransition } from './domain/shipment-state.js';
import { start } from './index.js';

/** A stand-in for the order subgraph (a peer subgraph): answers `_entities` for Order with buyer and unit prices. */
interface FakeOrder {
  userId: string;
  items: { sku: { id: string }; qty: number; unitPrice: { amount: number; currency: string } }[];
}
const orders = new Map<string, FakeOrder>();
const orderServer = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { variables: { r: { id: string }[] } };
    const entities = body.variables.r.map((r) => (orders.has(r.id) ? { __typename: 'Order', id: r.id, ...orders.get(r.id) } : null));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { _entities: entities } }));
  });
});

let server: Awaited<ReturnType<typeof start>>;
let db: pg.Client;
const broker = connectBroker('fulfillment-test');

beforeAll(async () => {
  await new Promise<void>((resolve) => orderServer.listen(0, '127.0.0.1', resolve));
  process.env.ORDER_URL = `http://127.0.0.1:${(orderServer.address() as AddressInfo).port}/graphql`;
  server = await start(0);
  db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  await db.query('SET search_path = fulfillment');
});
afterAll(async () => {
  await server?.stop();
  await db?.end();
  await broker.close();
  await new Promise((resolve) => orderServer.close(resolve));
});

async function publishConfirmed(orderId: string, allocations: { skuId: string; warehouseId: string; qty: number }[], eventId = newId('evt')) {
  const type: EventType = 'inventory.stock-confirmed';
  const envelope = {
    eventId,
    type,
    version: 1,
    occurredAt: new Date().toISOString(),
    aggregateId: orderId,
    correlationId: 'fulfillment-test',
    payload: { orderId, allocations },
  };
  const publisher = broker.createPublisher({ confirm: true });
  await publisher.send({ exchange: eventsExchange(), routingKey: type, contentType: 'application/json' }, envelope);
  await publisher.close();
  return envelope;
}

/** A paid order split over two warehouses, with its shipments created from stock-confirmed. */
async function splitOrder() {
  const buyer = user();
  const orderId = newId('ord');
  const [skuA, skuB, skuC] = [newId('sku'), newId('sku'), newId('sku')];
  orders.set(orderId, {
    userId: buyer.userId,
    items: [
      { sku: { id: skuA }, qty: 2, unitPrice: { amount: 5900, currency: 'CNY' } },
      { sku: { id: skuB }, qty: 1, unitPrice: { amount: 12000, currency: 'CNY' } },
      { sku: { id: skuC }, qty: 3, unitPrice: { amount: 100, currency: 'CNY' } },
    ],
  });
  const envelope = await publishConfirmed(orderId, [
    { skuId: skuA, warehouseId: 'wh-east', qty: 2 },
    { skuId: skuB, warehouseId: 'wh-west', qty: 1 },
    { skuId: skuC, warehouseId: 'wh-east', qty: 3 },
  ]);
  const shipments = await eventually(async () => {
    const found = (await db.query('SELECT id, warehouse_id FROM shipment WHERE order_id = $1 ORDER BY warehouse_id', [orderId])).rows;
    return found.length === 2 ? (found as { id: string; warehouse_id: string }[]) : undefined;
  });
  return { buyer, orderId, envelope, shipments, skus: { skuA, skuB, skuC } };
}

const SHIPMENTS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id shipments { id warehouseId status trackingNumber items { sku { id } qty unitPrice { amount currency } } } } } }`;
const PACK = `mutation($id: ID!) { packShipment(shipmentId: $id) { id status } }`;
const SHIP = `mutation($id: ID!, $t: String!) { shipShipment(shipmentId: $id, trackingNumber: $t) { id status trackingNumber } }`;
const DELIVER = `mutation($id: ID!) { deliverShipment(shipmentId: $id) { id status } }`;
const outboxCount = async (type: EventType, orderId: string) =>
  Number((await db.query(`SELECT count(*) AS n FROM outbox WHERE type = $1 AND body->'payload'->>'orderId' = $2`, [type, orderId])).rows[0].n);

describe('shipment state machine', () => {
  it('is a forward path PENDING -> PACKED -> SHIPPED -> DELIVERED, cancelable only before it ships', () => {
    const allowed = SHIPMENT_STATUSES.flatMap((from) => SHIPMENT_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}->${to}`));
    expect(allowed).toEqual(['PENDING->PACKED', 'PENDING->CANCELED', 'PACKED->SHIPPED', 'PACKED->CANCELED', 'SHIPPED->DELIVERED']);
    expect(SHIPMENT_TRANSITIONS.DELIVERED).toEqual([]);
    expect(SHIPMENT_TRANSITIONS.CANCELED).toEqual([]);
  });
});

describe('shipments from confirmed stock', () => {
  it('creates one shipment per warehouse with its items and prices, once, also on redelivery', async () => {
    const { buyer, orderId, envelope, shipments, skus } = await splitOrder();
    await publishConfirmed(orderId, envelope.payload.allocations, envelope.eventId);
    await publishConfirmed(orderId, envelope.payload.allocations);
    await eventually(async () => {
      const q = await broker.queueDeclare({ queue: queueName('fulfillment', 'stock-events'), passive: true });
      return q.messageCount === 0 ? true : undefined;
    });
    expect((await db.query('SELECT count(*) AS n FROM shipment WHERE order_id = $1', [orderId])).rows[0].n).toBe('2');

    const res = await callSubgraph(server.url, SHIPMENTS, { r: [{ __typename: 'Order', id: orderId }] }, buyer);
    expect(res.errors).toBeUndefined();
    const found = res.data!._entities[0].shipments as any[];
    expect(found.map((s) => s.warehouseId).sort()).toEqual(['wh-east', 'wh-west']);
    const east = found.find((s) => s.warehouseId === 'wh-east');
    expect(east).toMatchObject({ id: shipments[0]!.id, status: 'PENDING', trackingNumber: null });
    expect(east.items).toHaveLength(2);
    expect(east.items).toContainEqual({ sku: { id: skus.skuA }, qty: 2, unitPrice: { amount: 5900, currency: 'CNY' } });
    expect(east.items).toContainEqual({ sku: { id: skus.skuC }, qty: 3, unitPrice: { amount: 100, currency: 'CNY' } });

    const stranger = await callSubgraph(server.url, SHIPMENTS, { r: [{ __typename: 'Order', id: orderId }] }, user());
    expect(stranger.data!._entities[0].shipments).toEqual([]);
    const asAdmin = await callSubgraph(server.url, SHIPMENTS, { r: [{ __typename: 'Order', id: orderId }] }, admin());
    expect(asAdmin.data!._entities[0].shipments).toHaveLength(2);
  });
});

describe('admin moves', () => {
  it('moves a shipment along the table, versioned and audited, and refuses illegal moves', async () => {
    const { shipments } = await splitOrder();
    const id = shipments[0]!.id;
    const ops = admin();
    expect(errorCode(await callSubgraph(server.url, SHIP, { id, t: 'SF123' }, ops))).toBe('ORDER_STATE_INVALID');
    expect(errorCode(await callSubgraph(server.url, DELIVER, { id }, ops))).toBe('ORDER_STATE_INVALID');
    expect((await callSubgraph(server.url, PACK, { id }, ops)).data!.packShipment).toEqual({ id, status: 'PACKED' });
    expect(errorCode(await callSubgraph(server.url, PACK, { id }, ops))).toBe('ORDER_STATE_INVALID');
    expect(errorCode(await callSubgraph(server.url, SHIP, { id, t: '   ' }, ops))).toBe('BAD_USER_INPUT');
    expect((await callSubgraph(server.url, SHIP, { id, t: 'SF1234567' }, ops)).data!.shipShipment).toEqual({
      id,
      status: 'SHIPPED',
      trackingNumber: 'SF1234567',
    });
    expect((await callSubgraph(server.url, DELIVER, { id }, ops)).data!.deliverShipment).toEqual({ id, status: 'DELIVERED' });
    expect(errorCode(await callSubgraph(server.url, PACK, { id }, ops))).toBe('ORDER_STATE_INVALID');

    const row = (await db.query('SELECT version FROM shipment WHERE id = $1', [id])).rows[0];
    expect(row.version).toBe(4);
    const audit = (await db.query('SELECT type, actor FROM shipment_event WHERE shipment_id = $1 ORDER BY id', [id])).rows;
    expect(audit.map((a) => a.type)).toEqual(['CREATED', 'STATUS_PACKED', 'STATUS_SHIPPED', 'STATUS_DELIVERED']);
    expect(audit[1].actor).toBe(ops.userId);
  });

  it('is for admins only, and answers unknown or malformed ids with BAD_USER_INPUT', async () => {
    const { buyer, shipments } = await splitOrder();
    const id = shipments[0]!.id;
    expect(errorCode(await callSubgraph(server.url, PACK, { id }, buyer))).toBe('FORBIDDEN');
    expect(errorCode(await callSubgraph(server.url, PACK, { id }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await callSubgraph(server.url, PACK, { id: newId('shp') }, admin()))).toBe('BAD_USER_INPUT');
    expect(errorCode(await callSubgraph(server.url, PACK, { id: "shp_x' OR 1=1" }, admin()))).toBe('BAD_USER_INPUT');
    expect((await db.query('SELECT status FROM shipment WHERE id = $1', [id])).rows[0].status).toBe('PENDING');
  });

  it('emits order-shipped once when both shipments ship concurrently, and order-delivered once', async () => {
    const { orderId, shipments } = await splitOrder();
    const ops = admin();
    const ids = shipments.map((s) => s.id);
    await Promise.all(ids.map((id) => callSubgraph(server.url, PACK, { id }, ops)));
    expect(await outboxCount('fulfillment.order-shipped', orderId)).toBe(0);
    const shipped = await Promise.all(ids.map((id, i) => callSubgraph(server.url, SHIP, { id, t: `YT${i}` }, ops)));
    expect(shipped.map((r) => r.errors)).toEqual([undefined, undefined]);
    expect(await outboxCount('fulfillment.order-shipped', orderId)).toBe(1);

    await callSubgraph(server.url, DELIVER, { id: ids[0] }, ops);
    expect(await outboxCount('fulfillment.order-delivered', orderId)).toBe(0);
    const delivered = await Promise.all([callSubgraph(server.url, DELIVER, { id: ids[1] }, ops), callSubgraph(server.url, DELIVER, { id: ids[1] }, ops)]);
    expect(delivered.filter((r) => r.errors === undefined)).toHaveLength(1);
    expect(delivered.map(errorCode).filter(Boolean)).toEqual(['ORDER_STATE_INVALID']);
    expect(await outboxCount('fulfillment.order-delivered', orderId)).toBe(1);
    expect(await outboxCount('fulfillment.order-shipped', orderId)).toBe(1);
  });
});

describe('operations console', () => {
  const LIST = `query($status: String, $wh: ID) { shipments(status: $status, warehouseId: $wh, first: 100) { edges { node { id status warehouseId createdAt order { id } } } } }`;

  it('lists the shipments to pack per warehouse to admins only, each with its order', async () => {
    const { orderId, shipments } = await splitOrder();
    const res = await callSubgraph(server.url, LIST, { status: 'PENDING', wh: 'wh-west' }, admin());
    expect(res.errors).toBeUndefined();
    const nodes = res.data!.shipments.edges.map((e: any) => e.node);
    const west = shipments.find((s) => s.warehouse_id === 'wh-west')!;
    expect(nodes.find((n: any) => n.id === west.id)).toMatchObject({ status: 'PENDING', warehouseId: 'wh-west', order: { id: orderId } });
    expect(nodes.every((n: any) => n.status === 'PENDING' && n.warehouseId === 'wh-west')).toBe(true);
    expect(errorCode(await callSubgraph(server.url, LIST, {}, user()))).toBe('FORBIDDEN');
    expect(errorCode(await callSubgraph(server.url, LIST, { status: 'LOST' }, admin()))).toBe('BAD_USER_INPUT');
  });

  const QUEUES = `{ deadLetterQueues { consumer messages letters(limit: 50) { eventId type reason payload } } }`;
  const queue = queueName('fulfillment', 'stock-events');

  /** Parks an event in the consumer's dead-letter queue, as the broker does after the last failed delivery. */
  async function deadLetter(envelope: { eventId: string; type: string }) {
    const publisher = broker.createPublisher({ confirm: true });
    await publisher.send({ routingKey: `${queue}.dlq`, messageId: envelope.eventId, type: envelope.type, contentType: 'application/json' }, envelope);
    await publisher.close();
  }
  const lettersOf = async () => {
    const res = await callSubgraph(server.url, QUEUES, {}, admin());
    expect(res.errors).toBeUndefined();
    return res.data!.deadLetterQueues.find((q: any) => q.consumer === 'fulfillment.stock-events') as { messages: number; letters: { eventId: string }[] };
  };

  it('shows dead letters to admins, replays one through its consumer and discards another', async () => {
    const buyer = user();
    const orderId = newId('ord');
    const skuId = newId('sku');
    orders.set(orderId, { userId: buyer.userId, items: [{ sku: { id: skuId }, qty: 1, unitPrice: { amount: 100, currency: 'CNY' } }] });
    const good = {
      eventId: newId('evt'),
      type: 'inventory.stock-confirmed',
      version: 1,
      occurredAt: new Date().toISOString(),
      aggregateId: orderId,
      correlationId: 't',
      payload: { orderId, allocations: [{ skuId, warehouseId: 'wh-dlq', qty: 1 }] },
    };
    const junk = { eventId: newId('evt'), type: 'inventory.stock-confirmed', version: 1, payload: { nonsense: true } };
    await deadLetter(good);
    await deadLetter(junk);

    const parked = await eventually(async () => {
      const q = await lettersOf();
      const ids = q.letters.map((l) => l.eventId);
      return ids.includes(good.eventId) && ids.includes(junk.eventId) ? q : undefined;
    });
    expect(parked.messages).toBeGreaterThanOrEqual(2);
    expect(errorCode(await callSubgraph(server.url, QUEUES, {}, user()))).toBe('FORBIDDEN');

    const REPLAY = `mutation($c: String!, $ids: [String!]) { replayDeadLetters(consumer: $c, eventIds: $ids) { replayed missing } }`;
    expect(errorCode(await callSubgraph(server.url, REPLAY, { c: 'fulfillment.stock-events', ids: [good.eventId] }, user()))).toBe('FORBIDDEN');
    expect(errorCode(await callSubgraph(server.url, REPLAY, { c: 'nobody.here', ids: [good.eventId] }, admin()))).toBe('BAD_USER_INPUT');
    const replayed = await callSubgraph(server.url, REPLAY, { c: 'fulfillment.stock-events', ids: [good.eventId] }, admin());
    expect(replayed.data!.replayDeadLetters).toEqual({ replayed: 1, missing: [] });
    await eventually(async () => {
      const rows = (await db.query('SELECT id FROM shipment WHERE order_id = $1', [orderId])).rows;
      return rows.length === 1 ? rows : undefined;
    });

    const DISCARD = `mutation($c: String!, $ids: [String!]!) { discardDeadLetters(consumer: $c, eventIds: $ids) { discarded missing } }`;
    const discarded = await callSubgraph(server.url, DISCARD, { c: 'fulfillment.stock-events', ids: [junk.eventId] }, admin());
    expect(discarded.data!.discardDeadLetters).toEqual({ discarded: 1, missing: [] });
    const left = (await lettersOf()).letters.map((l) => l.eventId);
    expect(left).not.toContain(junk.eventId);
    expect(left).not.toContain(good.eventId);
  });
});
