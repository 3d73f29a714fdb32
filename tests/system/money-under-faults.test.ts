import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/kit/testing';
import { gql, tokenFor } from '../support/gateway-client.js';
import { adminToken, database, payOnSimulator, placeOrder, seedProduct, systemStack } from '../support/system.js';

let stack: Awaited<ReturnType<typeof systemStack>>;
let db: ReturnType<typeof database>;
beforeAll(async () => {
  stack = await systemStack();
  db = database(stack.databaseUrl);
}, 120_000);
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

const ORDER = `query($id: ID!) { order(id: $id) { id status cancelReason payable { amount }
  payment { status }
  shipments { id warehouseId status items { sku { id } qty } } } }`;
const orderOf = async (token: string, id: string) => (await gql(stack.gatewayUrl, ORDER, { id }, token)).data!.order;
const waitFor = (token: string, id: string, ok: (o: any) => boolean) =>
  eventually(
    async () => {
      const o = await orderOf(token, id);
      return o && ok(o) ? o : undefined;
    },
    { timeoutMs: 20_000 },
  );
const stockOf = async (skuId: string, warehouseId: string) =>
  db.one<{ available: number; reserved: number; sold: number }>(
    'SELECT available, reserved, sold FROM inventory.stock WHERE sku_id = $1 AND warehouse_id = $2',
    [skuId, warehouseId],
  );
const REFUND = `mutation($id: ID!) { requestRefund(orderId: $id, reason: "changed my mind") { id status } }`;
const APPROVE = `mutation($id: ID!) { approveRefund(refundId: $id) { status } }`;
const PACK = `mutation($id: ID!) { packShipment(shipmentId: $id) { status } }`;
const SHIP = `mutation($id: ID!, $t: String!) { shipShipment(shipmentId: $id, trackingNumber: $t) { status } }`;
const DELIVER = `mutation($id: ID!) { deliverShipment(shipmentId: $id) { status } }`;

/** A paid order of one unit from wh-a and two from wh-b, with both parcels created. */
async function paidTwoParcelOrder(buyer: string) {
  const { skuIds } = await seedProduct(stack.gatewayUrl, [
    { title: 'A', price: 3000, stock: { 'wh-a': 5 } },
    { title: 'B', price: 2000, stock: { 'wh-b': 5 } },
  ]);
  const placed = await placeOrder(stack.gatewayUrl, buyer, [
    { skuId: skuIds[0]!, qty: 1 },
    { skuId: skuIds[1]!, qty: 2 },
  ]);
  await payOnSimulator(stack.gatewayUrl, buyer, placed.id);
  const paid = await waitFor(buyer, placed.id, (o) => o.status === 'PAID' && o.shipments.length === 2);
  const parcel = (wh: string) => paid.shipments.find((s: any) => s.warehouseId === wh);
  return { skuIds, orderId: placed.id as string, a: parcel('wh-a'), b: parcel('wh-b') };
}

describe('refund policy', () => {
  it('a refund of a partly shipped order stops the waiting parcel, returns its stock, keeps the shipped one sold, ends REFUNDED', async () => {
    const buyer = await tokenFor(`buyer-${Date.now()}`);
    const admin = await adminToken();
    const { skuIds, orderId, a, b } = await paidTwoParcelOrder(buyer);
    await gql(stack.gatewayUrl, PACK, { id: a.id }, admin);
    await gql(stack.gatewayUrl, SHIP, { id: a.id, t: 'SF-A' }, admin);
    await gql(stack.gatewayUrl, PACK, { id: b.id }, admin);

    const refund = await gql(stack.gatewayUrl, REFUND, { id: orderId }, buyer);
    expect(refund.data!.requestRefund.status).toBe('PENDING_APPROVAL');
    // The waiting parcel stopped at once: it can no longer leave.
    const stopped = await orderOf(buyer, orderId);
    expect(stopped.shipments.find((s: any) => s.id === b.id).status).toBe('CANCELED');
    expect((await gql(stack.gatewayUrl, SHIP, { id: b.id, t: 'SF-B' }, admin)).errors?.[0]?.extensions?.code).toBe('ORDER_STATE_INVALID');

    expect((await gql(stack.gatewayUrl, APPROVE, { id: refund.data!.requestRefund.id }, admin)).data!.approveRefund.status).toBe('REQUESTED');
    const refunded = await waitFor(buyer, orderId, (o) => o.status === 'REFUNDED');
    expect(refunded.payment.status).toBe('REFUNDED');
    expect(refunded.shipments.map((s: any) => [s.warehouseId, s.status]).sort()).toEqual([
      ['wh-a', 'SHIPPED'],
      ['wh-b', 'CANCELED'],
    ]);
    // wh-b's two units are back on sale; wh-a's shipped unit stays sold.
    await eventually(async () => ((await stockOf(skuIds[1]!, 'wh-b'))?.available === 5 ? true : undefined));
    expect(await stockOf(skuIds[1]!, 'wh-b')).toEqual({ available: 5, reserved: 0, sold: 0 });
    expect(await stockOf(skuIds[0]!, 'wh-a')).toEqual({ available: 4, reserved: 0, sold: 1 });
  });

  it('a refund approved after delivery still ends REFUNDED, with the delivered stock sold', async () => {
    const buyer = await tokenFor(`buyer-${Date.now()}`);
    const admin = await adminToken();
    const { skuIds, orderId, a, b } = await paidTwoParcelOrder(buyer);
    for (const s of [a, b]) {
      await gql(stack.gatewayUrl, PACK, { id: s.id }, admin);
      await gql(stack.gatewayUrl, SHIP, { id: s.id, t: `SF-${s.id}` }, admin);
    }
    await waitFor(buyer, orderId, (o) => o.status === 'SHIPPED');
    const refund = await gql(stack.gatewayUrl, REFUND, { id: orderId }, buyer);
    expect(refund.data!.requestRefund.status).toBe('PENDING_APPROVAL');
    for (const s of [a, b]) await gql(stack.gatewayUrl, DELIVER, { id: s.id }, admin);
    await waitFor(buyer, orderId, (o) => o.status === 'COMPLETED');

    await gql(stack.gatewayUrl, APPROVE, { id: refund.data!.requestRefund.id }, admin);
    const refunded = await waitFor(buyer, orderId, (o) => o.status === 'REFUNDED');
    expect(refunded.payment.status).toBe('REFUNDED');
    expect(await stockOf(skuIds[0]!, 'wh-a')).toEqual({ available: 4, reserved: 0, sold: 1 });
    expect(await stockOf(skuIds[1]!, 'wh-b')).toEqual({ available: 3, reserved: 0, sold: 2 });
  });
});

describe('risk review', () => {
  const QUEUE = `query($after: String) { riskReviewQueue(first: 10, after: $after) { edges { node { id status } } pageInfo { hasNextPage endCursor } } }`;
  const RESOLVE = `mutation($id: ID!, $ok: Boolean!, $note: String) { resolveRiskReview(orderId: $id, approve: $ok, note: $note) { id status cancelReason expireAt } }`;

  it('holds a high-risk order in REVIEW with its stock; an admin approves one (it is paid as usual) and rejects another (stock released)', async () => {
    // Above the default large-payable rule (5,000,000 minor units): REVIEW.
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'jewel', price: 6_000_000, stock: { 'wh-a': 5 } }]);
    const buyer = await tokenFor(`jeweller-${Date.now()}`);
    const admin = await adminToken();
    const first = await placeOrder(stack.gatewayUrl, buyer, [{ skuId: skuIds[0]!, qty: 1 }]);
    const second = await placeOrder(stack.gatewayUrl, buyer, [{ skuId: skuIds[0]!, qty: 1 }]);
    expect([first.status, second.status]).toEqual(['REVIEW', 'REVIEW']);
    expect(await stockOf(skuIds[0]!, 'wh-a')).toEqual({ available: 3, reserved: 2, sold: 0 });
    const pay = await gql(stack.gatewayUrl, `mutation($id: ID!) { payOrder(orderId: $id) { paymentId } }`, { id: first.id }, buyer);
    expect(pay.errors?.[0]?.extensions?.code).toBe('ORDER_STATE_INVALID');

    expect((await gql(stack.gatewayUrl, QUEUE, {}, buyer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const queue = (await gql(stack.gatewayUrl, QUEUE, {}, admin)).data!.riskReviewQueue;
    const queued = queue.edges.map((e: any) => e.node.id);
    expect(queued.indexOf(first.id)).toBeLessThan(queued.indexOf(second.id)); // oldest first
    expect(queued.indexOf(first.id)).toBeGreaterThanOrEqual(0);

    const approved = (await gql(stack.gatewayUrl, RESOLVE, { id: first.id, ok: true, note: 'called the buyer' }, admin)).data!.resolveRiskReview;
    expect(approved.status).toBe('PENDING_PAYMENT');
    expect(Date.parse(approved.expireAt)).toBeGreaterThan(Date.now() + 60_000);
    await payOnSimulator(stack.gatewayUrl, buyer, first.id);
    await waitFor(buyer, first.id, (o) => o.status === 'PAID');

    const rejected = (await gql(stack.gatewayUrl, RESOLVE, { id: second.id, ok: false }, admin)).data!.resolveRiskReview;
    expect(rejected).toMatchObject({ status: 'CANCELED', cancelReason: 'RISK_REJECTED' });
    // The same decision again answers the order; the other decision is refused.
    expect((await gql(stack.gatewayUrl, RESOLVE, { id: second.id, ok: false }, admin)).data!.resolveRiskReview.status).toBe('CANCELED');
    expect((await gql(stack.gatewayUrl, RESOLVE, { id: second.id, ok: true }, admin)).errors?.[0]?.extensions?.code).toBe('ORDER_STATE_INVALID');
    await eventually(async () => ((await stockOf(skuIds[0]!, 'wh-a'))?.sold === 1 ? true : undefined));
    await eventually(async () => ((await stockOf(skuIds[0]!, 'wh-a'))?.available === 4 ? true : undefined));
    expect(await stockOf(skuIds[0]!, 'wh-a')).toEqual({ available: 4, reserved: 0, sold: 1 });
    const left = (await gql(stack.gatewayUrl, QUEUE, {}, admin)).data!.riskReviewQueue.edges.map((e: any) => e.node.id);
    expect(left).not.toContain(first.id);
    expect(left).not.toContain(second.id);
  });
});
