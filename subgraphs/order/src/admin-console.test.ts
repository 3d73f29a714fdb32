/**
 * What the operations console reads and changes in the order subgraph: every order with search and
 * the audit trail, refund requests, and the shopper's address edits. Admin fields refuse customers
 * and anonymous callers here, in the resolver, which is what the gateway forwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, callSubgraph, errorCode, user } from '@shop/kit/testing';
import type { Identity } from '@shop/kit';
import { start as startCatalog } from '../../catalog/src/index.js';
import { start as startInventory } from '../../inventory/src/index.js';
import { start } from './index.js';
import { createStockedSku } from '../../../tests/support/fixtures.js';

type Server = { url: string; stop(): Promise<void> };
let catalog: Server, inventory: Server, order: Server;

beforeAll(async () => {
  catalog = await startCatalog(0);
  process.env.CATALOG_URL = catalog.url;
  inventory = await startInventory(0);
  process.env.INVENTORY_URL = inventory.url;
  order = await start(0);
});
afterAll(async () => {
  await order?.stop();
  await inventory?.stop();
  await catalog?.stop();
});

const ADDRESS = { name: 'Li Lei', phone: '+86 138 0000 0000', line1: '1 Nanjing Road', city: 'Shanghai', country: 'CN' };

async function call(query: string, variables: Record<string, unknown>, who?: Identity) {
  return callSubgraph(order.url, query, variables, who);
}

async function placedOrder(buyer: Identity): Promise<{ orderId: string; addressId: string }> {
  const skuId = await createStockedSku({ catalog: catalog.url, inventory: inventory.url }, { price: 5000, stock: { 'wh-a': 10 } });
  const added = await call(`mutation($input: AddressInput!) { addAddress(input: $input) { id } }`, { input: ADDRESS }, buyer);
  const addressId = added.data!.addAddress.id as string;
  const preview = await call(
    `mutation($input: PreviewOrderInput!) { previewOrder(input: $input) { previewId } }`,
    { input: { items: [{ skuId, qty: 1 }], addressId } },
    buyer,
  );
  const placed = await call(
    `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status } } }`,
    { input: { previewId: preview.data!.previewOrder.previewId, clientReqId: `console-${Math.random()}` } },
    buyer,
  );
  expect(placed.errors).toBeUndefined();
  return { orderId: placed.data!.placeOrder.order.id, addressId };
}

const SEARCH = `query($search: String, $status: OrderStatus) { adminOrders(first: 5, search: $search, status: $status) { edges { node { id userId status events { type fromStatus toStatus version details } } } pageInfo { hasNextPage } } }`;

describe('operations console: orders', () => {
  it('finds any buyer’s order by id, short number or user id, with its audit trail; refuses customers', async () => {
    const buyer = user();
    const { orderId } = await placedOrder(buyer);
    const ops = admin();

    const byId = await call(SEARCH, { search: orderId }, ops);
    expect(byId.errors).toBeUndefined();
    const [found] = byId.data!.adminOrders.edges.map((e: any) => e.node);
    expect(found).toMatchObject({ id: orderId, userId: buyer.userId, status: 'PENDING_PAYMENT' });
    expect(found.events.map((e: any) => e.toStatus)).toEqual(['CREATED', 'PENDING_PAYMENT']);
    expect(found.events[1]).toMatchObject({ type: 'ORDER_PENDING_PAYMENT', fromStatus: 'CREATED', version: 2 });

    const short = orderId.slice(-8).toUpperCase();
    expect((await call(SEARCH, { search: short }, ops)).data!.adminOrders.edges.map((e: any) => e.node.id)).toEqual([orderId]);
    expect((await call(SEARCH, { search: buyer.userId, status: 'PENDING_PAYMENT' }, ops)).data!.adminOrders.edges.map((e: any) => e.node.id)).toEqual([
      orderId,
    ]);
    expect((await call(SEARCH, { search: buyer.userId, status: 'PAID' }, ops)).data!.adminOrders.edges).toEqual([]);

    expect(errorCode(await call(SEARCH, { search: orderId }, buyer))).toBe('FORBIDDEN');
    expect(errorCode(await call(SEARCH, { search: orderId }))).toBe('UNAUTHENTICATED');
    // The buyer reads the order, not its audit trail.
    const own = await call(`query($id: ID!) { order(id: $id) { id events { type } } }`, { id: orderId }, buyer);
    expect(errorCode(own)).toBe('FORBIDDEN');
  });

  it('lists refund requests by status for admins only', async () => {
    const ops = admin();
    const listed = await call(`{ refundRequests(status: "PENDING_APPROVAL") { id status createdAt order { id } } }`, {}, ops);
    expect(listed.errors).toBeUndefined();
    expect(Array.isArray(listed.data!.refundRequests)).toBe(true);
    expect(errorCode(await call(`{ refundRequests { id } }`, {}, user()))).toBe('FORBIDDEN');
    expect(errorCode(await call(`{ refundRequests(status: "LOST") { id } }`, {}, ops))).toBe('BAD_USER_INPUT');
  });

  it('answers the order subgraph’s key metrics to admins only', async () => {
    const res = await call(`{ orderMetrics { name value help } }`, {}, admin());
    expect(res.data!.orderMetrics.map((m: any) => m.name)).toEqual(['order_create_qps', 'order_create_p95_ms', 'order_fail_rate']);
    expect(errorCode(await call(`{ orderMetrics { name } }`, {}, user()))).toBe('FORBIDDEN');
  });
});

describe('addresses: edit and remove', () => {
  it('edits into a new address, removes from the list, and the order keeps where it ships', async () => {
    const buyer = user();
    const { orderId, addressId } = await placedOrder(buyer);
    const updated = await call(
      `mutation($id: ID!, $input: AddressInput!) { updateAddress(id: $id, input: $input) { id name line1 } }`,
      { id: addressId, input: { ...ADDRESS, line1: '2 Century Avenue' } },
      buyer,
    );
    expect(updated.errors).toBeUndefined();
    const edited = updated.data!.updateAddress;
    expect(edited.id).not.toBe(addressId);
    expect(edited.line1).toBe('2 Century Avenue');
    const list = async () => (await call(`{ addresses { id line1 } }`, {}, buyer)).data!.addresses;
    expect(await list()).toEqual([{ id: edited.id, line1: '2 Century Avenue' }]);

    // Someone else cannot remove it; its owner can, once.
    expect(errorCode(await call(`mutation($id: ID!) { removeAddress(id: $id) }`, { id: edited.id }, user()))).toBe('BAD_USER_INPUT');
    expect((await call(`mutation($id: ID!) { removeAddress(id: $id) }`, { id: edited.id }, buyer)).data!.removeAddress).toBe(true);
    expect(errorCode(await call(`mutation($id: ID!) { removeAddress(id: $id) }`, { id: edited.id }, buyer))).toBe('BAD_USER_INPUT');
    expect(await list()).toEqual([]);

    const shipsTo = await call(`query($id: ID!) { order(id: $id) { shippingAddress { id line1 city } } }`, { id: orderId }, buyer);
    expect(shipsTo.data!.order.shippingAddress).toEqual({ id: addressId, line1: '1 Nanjing Road', city: 'Shanghai' });
    const asAdmin = await call(`query($id: ID!) { order(id: $id) { shippingAddress { name } } }`, { id: orderId }, admin());
    expect(asAdmin.data!.order.shippingAddress).toEqual({ name: 'Li Lei' });
  });

  it('tells which coupon rule refused, with a reason code', async () => {
    const buyer = user();
    const skuId = await createStockedSku({ catalog: catalog.url, inventory: inventory.url }, { price: 100, stock: { 'wh-a': 1 } });
    const res = await call(
      `mutation($input: PreviewOrderInput!) { previewOrder(input: $input) { previewId } }`,
      { input: { items: [{ skuId, qty: 1 }], couponCode: 'NO-SUCH-COUPON' } },
      buyer,
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'couponCode', reason: 'UNKNOWN' });
  });
});
