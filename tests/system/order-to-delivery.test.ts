import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/kit/testing';
import { signPayload } from '@shop/kit';
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
  payment { status paymentTxnId amount { amount } }
  shipments { id warehouseId status trackingNumber items { sku { id title } qty } } } }`;
const orderOf = async (token: string, id: string) => (await gql(stack.gatewayUrl, ORDER, { id }, token)).data!.order;
const waitStatus = (token: string, id: string, status: string) =>
  eventually(
    async () => {
      const o = await orderOf(token, id);
      return o?.status === status ? o : undefined;
    },
    { timeoutMs: 20_000 },
  );
const stockOf = (skuId: string) =>
  db.all<{ warehouse_id: string; available: number; reserved: number; sold: number }>(
    'SELECT warehouse_id, available, reserved, sold FROM inventory.stock WHERE sku_id = $1 ORDER BY warehouse_id',
    [skuId],
  );
const outboxCount = (type: string, key: string) =>
  db.one<{ n: string }>(`SELECT count(*) AS n FROM payment.outbox WHERE type = $1 AND body->'payload'->>'orderId' = $2`, [type, key]);

describe('from order to delivery through the gateway', () => {
  it('places, pays on the simulator, splits shipments across two warehouses, ships, delivers, completes', async () => {
    const { skuIds } = await seedProduct(stack.gatewayUrl, [
      { title: 'from A', price: 10000, stock: { 'wh-a': 5 } },
      { title: 'from B', price: 2500, stock: { 'wh-b': 5 } },
    ]);
    const buyer = await tokenFor(`buyer-${Date.now()}`);
    const placed = await placeOrder(stack.gatewayUrl, buyer, [
      { skuId: skuIds[0]!, qty: 1 },
      { skuId: skuIds[1]!, qty: 2 },
    ]);
    expect(placed.status).toBe('PENDING_PAYMENT');
    expect(await stockOf(skuIds[0]!)).toEqual([{ warehouse_id: 'wh-a', available: 4, reserved: 1, sold: 0 }]);

    await payOnSimulator(stack.gatewayUrl, buyer, placed.id);
    const paid = await eventually(
      async () => {
        const o = await orderOf(buyer, placed.id);
        return o?.status === 'PAID' && o.shipments.length === 2 ? o : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(paid.payment).toMatchObject({ status: 'SUCCEEDED', amount: { amount: placed.payable.amount } });
    expect(paid.payment.paymentTxnId).toMatch(/^txn_/);
    expect(paid.shipments.map((s: any) => s.warehouseId).sort()).toEqual(['wh-a', 'wh-b']);
    expect(paid.shipments.find((s: any) => s.warehouseId === 'wh-b').items).toEqual([{ sku: { id: skuIds[1], title: 'from B' }, qty: 2 }]);
    await eventually(async () => ((await stockOf(skuIds[1]!))[0]?.sold === 2 ? true : undefined));
    expect(await stockOf(skuIds[0]!)).toEqual([{ warehouse_id: 'wh-a', available: 4, reserved: 0, sold: 1 }]);
    expect(await stockOf(skuIds[1]!)).toEqual([{ warehouse_id: 'wh-b', available: 3, reserved: 0, sold: 2 }]);

    const admin = await adminToken();
    for (const s of paid.shipments) {
      const packed = await gql(stack.gatewayUrl, `mutation($id: ID!) { packShipment(shipmentId: $id) { status } }`, { id: s.id }, admin);
      expect(packed.data!.packShipment.status).toBe('PACKED');
    }
    const [first, second] = paid.shipments;
    await gql(
      stack.gatewayUrl,
      `mutation($id: ID!, $t: String!) { shipShipment(shipmentId: $id, trackingNumber: $t) { status } }`,
      { id: first.id, t: 'SF100001' },
      admin,
    );
    expect((await orderOf(buyer, placed.id)).status).toBe('PAID'); // one of two shipped: not yet SHIPPED
    await gql(
      stack.gatewayUrl,
      `mutation($id: ID!, $t: String!) { shipShipment(shipmentId: $id, trackingNumber: $t) { status } }`,
      { id: second.id, t: 'SF100002' },
      admin,
    );
    const shipped = await waitStatus(buyer, placed.id, 'SHIPPED');
    expect(shipped.shipments.map((s: any) => s.trackingNumber).sort()).toEqual(['SF100001', 'SF100002']);
    for (const s of paid.shipments) await gql(stack.gatewayUrl, `mutation($id: ID!) { deliverShipment(shipmentId: $id) { status } }`, { id: s.id }, admin);
    await waitStatus(buyer, placed.id, 'COMPLETED');

    const trail = await db.all<{ to_status: string }>(
      `SELECT to_status FROM ordering.order_event WHERE order_id = $1 AND event_type LIKE 'ORDER_%' ORDER BY created_at`,
      [placed.id],
    );
    expect(trail.map((t) => t.to_status)).toEqual(['CREATED', 'PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED']);
  });

  it('changes state once for the same callback delivered 5 times at once', async () => {
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'dup', price: 3000, stock: { 'wh-a': 5 } }]);
    const buyer = await tokenFor(`buyer-${Date.now()}`);
    const placed = await placeOrder(stack.gatewayUrl, buyer, [{ skuId: skuIds[0]!, qty: 1 }]);
    await fetch(`${stack.pspUrl}/admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'duplicate', duplicates: 5, count: 1 }),
    });
    const { paymentId } = await payOnSimulator(stack.gatewayUrl, buyer, placed.id);
    await waitStatus(buyer, placed.id, 'PAID');
    await eventually(async () => {
      const { callbacks } = (await (await fetch(`${stack.pspUrl}/admin/callbacks?paymentId=${paymentId}`)).json()) as { callbacks: { outcome: string }[] };
      return callbacks.filter((c) => c.outcome === 'DELIVERED').length === 5 ? true : undefined;
    });
    expect((await db.one('SELECT count(*) AS n FROM payment.payment_callback WHERE payment_id = $1', [paymentId]))!.n).toBe('1');
    expect((await outboxCount('payment.succeeded', placed.id))!.n).toBe('1');
    expect(
      (await db.one(`SELECT count(*) AS n FROM ordering.order_event WHERE order_id = $1 AND to_status = 'PAID' AND event_type = 'ORDER_PAID'`, [placed.id]))!.n,
    ).toBe('1');
  });

  it('answers 401 to a bad signature or a stale timestamp and changes nothing; flags a mismatched amount', async () => {
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'sig', price: 4000, stock: { 'wh-a': 5 } }]);
    const buyer = await tokenFor(`buyer-${Date.now()}`);
    const placed = await placeOrder(stack.gatewayUrl, buyer, [{ skuId: skuIds[0]!, qty: 1 }]);
    const session = await gql(stack.gatewayUrl, `mutation($id: ID!) { payOrder(orderId: $id) { paymentId } }`, { id: placed.id }, buyer);
    const paymentId = session.data!.payOrder.paymentId;
    const callbackUrl = `http://127.0.0.1:${stack.ports.gateway}/internal/v1/payment/callback`;
    const body = (amount: number) =>
      JSON.stringify({
        eventId: `evt_${Date.now()}_${amount}`,
        paymentTxnId: `txn_forged_${amount}`,
        paymentId,
        status: 'SUCCEEDED',
        amount,
        currency: 'CNY',
        occurredAt: new Date().toISOString(),
      });
    const secret = 'dev-payment-webhook-secret-change-me';
    const send = (raw: string, signature: string) =>
      fetch(callbackUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'Payment-Signature': signature }, body: raw });

    const good = body(placed.payable.amount);
    expect((await send(good, signPayload('not-the-secret', good))).status).toBe(401);
    expect((await send(good, signPayload(secret, good, Math.floor(Date.now() / 1000) - 301))).status).toBe(401);
    expect((await send(good, '')).status).toBe(401);
    expect((await db.one('SELECT count(*) AS n FROM payment.payment_callback WHERE payment_id = $1', [paymentId]))!.n).toBe('0');

    const wrong = body(placed.payable.amount - 1);
    expect((await send(wrong, signPayload(secret, wrong))).status).toBe(200);
    const payment = await db.one<{ status: string; flagged_reason: string | null }>('SELECT status, flagged_reason FROM payment.payment WHERE id = $1', [
      paymentId,
    ]);
    expect(payment!.status).toBe('PENDING');
    expect(payment!.flagged_reason).toMatch(/amount|mismatch/i);
    expect((await orderOf(buyer, placed.id)).status).toBe('PENDING_PAYMENT');
  });

  it('repairs a dropped callback through reconciliation', async () => {
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'drop', price: 5000, stock: { 'wh-a': 5 } }]);
    const buyer = await tokenFor(`buyer-${Date.now()}`);
    const placed = await placeOrder(stack.gatewayUrl, buyer, [{ skuId: skuIds[0]!, qty: 1 }]);
    await fetch(`${stack.pspUrl}/admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'drop', count: 1 }),
    });
    const from = new Date(Date.now() - 60_000).toISOString();
    const { paymentId } = await payOnSimulator(stack.gatewayUrl, buyer, placed.id);
    const ledger = await eventually(async () => {
      const { transactions } = (await (await fetch(`${stack.pspUrl}/admin/transactions?paymentId=${paymentId}`)).json()) as {
        transactions: { status: string; events: { delivery: string }[] }[];
      };
      return transactions[0]?.status === 'SUCCEEDED' && transactions[0].events[0]?.delivery === 'DROPPED' ? transactions[0] : undefined;
    });
    expect(ledger.status).toBe('SUCCEEDED');
    expect((await orderOf(buyer, placed.id)).status).toBe('PENDING_PAYMENT');

    const { execFileSync } = await import('node:child_process');
    const report = JSON.parse(
      execFileSync(process.execPath, ['subgraphs/payment/dist/reconcile.js', '--from', from, '--to', new Date(Date.now() + 60_000).toISOString()], {
        env: { ...process.env, ...stack.env, LOG_LEVEL: 'error' },
        encoding: 'utf8',
      }),
    );
    expect(JSON.stringify(report)).toContain(paymentId);
    await waitStatus(buyer, placed.id, 'PAID');
  });

  it('refunds a payment that arrives after the order was canceled', async () => {
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'late', price: 6000, stock: { 'wh-a': 5 } }]);
    const buyer = await tokenFor(`buyer-${Date.now()}`);
    const placed = await placeOrder(stack.gatewayUrl, buyer, [{ skuId: skuIds[0]!, qty: 1 }]);
    const session = await gql(stack.gatewayUrl, `mutation($id: ID!) { payOrder(orderId: $id) { paymentId redirectUrl } }`, { id: placed.id }, buyer);
    const canceled = await gql(stack.gatewayUrl, `mutation($id: ID!) { cancelOrder(orderId: $id) { status } }`, { id: placed.id }, buyer);
    expect(canceled.data!.cancelOrder.status).toBe('CANCELED');
    await fetch(`${session.data!.payOrder.redirectUrl}/pay`, { method: 'POST', redirect: 'manual' });
    const paymentId = session.data!.payOrder.paymentId;
    await eventually(async () => ((await db.one('SELECT status FROM payment.payment WHERE id = $1', [paymentId]))?.status === 'REFUNDED' ? true : undefined), {
      timeoutMs: 20_000,
    });
    const { transactions } = (await (await fetch(`${stack.pspUrl}/admin/transactions?paymentId=${paymentId}`)).json()) as {
      transactions: { status: string }[];
    };
    expect(transactions[0]!.status).toBe('REFUNDED');
    expect((await orderOf(buyer, placed.id)).status).toBe('CANCELED');
    await eventually(async () => ((await stockOf(skuIds[0]!))[0]?.available === 5 ? true : undefined));
  });

  it('refunds before shipping with the stock returned, and after shipping with an admin approval and the stock kept sold', async () => {
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'refund', price: 7000, stock: { 'wh-a': 10 } }]);
    const buyer = await tokenFor(`buyer-${Date.now()}`);
    const admin = await adminToken();
    const REFUND = `mutation($id: ID!) { requestRefund(orderId: $id, reason: "changed my mind") { id status amount { amount } } }`;

    const early = await placeOrder(stack.gatewayUrl, buyer, [{ skuId: skuIds[0]!, qty: 2 }]);
    await payOnSimulator(stack.gatewayUrl, buyer, early.id);
    await waitStatus(buyer, early.id, 'PAID');
    await eventually(async () => ((await stockOf(skuIds[0]!))[0]?.sold === 2 ? true : undefined));
    const packedFirst = await eventually(async () => {
      const o = await orderOf(buyer, early.id);
      return o?.shipments.length === 1 ? o.shipments[0] : undefined;
    });
    await gql(stack.gatewayUrl, `mutation($id: ID!) { packShipment(shipmentId: $id) { status } }`, { id: packedFirst.id }, admin);
    const r1 = await gql(stack.gatewayUrl, REFUND, { id: early.id }, buyer);
    expect(r1.data!.requestRefund).toMatchObject({ status: 'REQUESTED', amount: { amount: early.payable.amount } });
    await waitStatus(buyer, early.id, 'REFUNDED');
    await eventually(async () => ((await stockOf(skuIds[0]!))[0]?.available === 10 ? true : undefined));
    expect((await stockOf(skuIds[0]!))[0]).toMatchObject({ available: 10, reserved: 0, sold: 0 });
    // Nothing can leave the warehouse for a refunded order.
    expect((await orderOf(buyer, early.id)).shipments.map((s: any) => s.status)).toEqual(['CANCELED']);
    const ship = await gql(
      stack.gatewayUrl,
      `mutation($id: ID!) { shipShipment(shipmentId: $id, trackingNumber: "SF1") { status } }`,
      { id: packedFirst.id },
      admin,
    );
    expect(ship.errors?.[0]?.extensions?.code).toBe('ORDER_STATE_INVALID');

    const late = await placeOrder(stack.gatewayUrl, buyer, [{ skuId: skuIds[0]!, qty: 1 }]);
    await payOnSimulator(stack.gatewayUrl, buyer, late.id);
    const paid = await eventually(
      async () => {
        const o = await orderOf(buyer, late.id);
        return o?.status === 'PAID' && o.shipments.length === 1 ? o : undefined;
      },
      { timeoutMs: 20_000 },
    );
    await gql(stack.gatewayUrl, `mutation($id: ID!) { packShipment(shipmentId: $id) { status } }`, { id: paid.shipments[0].id }, admin);
    await gql(stack.gatewayUrl, `mutation($id: ID!) { shipShipment(shipmentId: $id, trackingNumber: "SF9") { status } }`, { id: paid.shipments[0].id }, admin);
    await waitStatus(buyer, late.id, 'SHIPPED');
    const r2 = await gql(stack.gatewayUrl, REFUND, { id: late.id }, buyer);
    expect(r2.data!.requestRefund.status).toBe('PENDING_APPROVAL');
    expect(
      (await gql(stack.gatewayUrl, `mutation($id: ID!) { approveRefund(refundId: $id) { status } }`, { id: r2.data!.requestRefund.id }, buyer)).errors?.[0]
        ?.extensions?.code,
    ).toBe('FORBIDDEN');
    const approved = await gql(stack.gatewayUrl, `mutation($id: ID!) { approveRefund(refundId: $id) { status } }`, { id: r2.data!.requestRefund.id }, admin);
    expect(approved.data!.approveRefund.status).toBe('REQUESTED');
    await waitStatus(buyer, late.id, 'REFUNDED');
    expect((await stockOf(skuIds[0]!))[0]).toMatchObject({ available: 9, reserved: 0, sold: 1 });
    const audit = await db.all<{ event_type: string }>(`SELECT event_type FROM ordering.order_event WHERE order_id = $1 ORDER BY created_at`, [late.id]);
    expect(audit.map((a) => a.event_type)).toEqual(expect.arrayContaining(['REFUND_REQUESTED', 'REFUND_APPROVED', 'ORDER_REFUNDED']));
  });
});
