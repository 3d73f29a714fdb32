import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { admin, callSubgraph, errorCode, eventually, user, sql } from '@shop/kit/testing';
import { newId, openDatabase, registry, type Identity } from '@shop/kit';
import type { MikroORM } from '@mikro-orm/postgresql';
import { MikroORM as Orm } from '@mikro-orm/postgresql';
import { start as startCatalog } from '@shop/catalog';
import { database as inventoryDatabase, start as startInventory, stockInvariantViolations } from '@shop/inventory';
import { start } from './index.js';
import { signPreview, verifyPreview } from './domain/preview-token.js';
import { createStockedSku } from '../../../tests/support/fixtures.js';

process.env.ORDER_TIMEOUT_SWEEP_MS = '200';
// Cancel at the deadline itself unless a test opens a grace window.
process.env.ORDER_PAYMENT_GRACE_SECONDS = '0';
// A small flash-sale entrance: 10 admissions at once per SKU, then 1 a second.
process.env.FLASH_SALE_BURST = '10';
process.env.FLASH_SALE_RATE = '1';
process.env.FLASH_SALE_SYNC_MS = '100';

type Server = { url: string; stop(): Promise<void> };
let catalog: Server, inventory: Server, order: Server;
let db: MikroORM;

beforeAll(async () => {
  catalog = await startCatalog(0);
  process.env.CATALOG_URL = catalog.url;
  inventory = await startInventory(0);
  process.env.INVENTORY_URL = inventory.url;
  order = await start(0);
  db = await Orm.init({ clientUrl: process.env.DATABASE_URL, entities: [], discovery: { warnWhenNoEntities: false }, pool: { min: 0, max: 4 } } as never);
});
afterAll(async () => {
  await order?.stop();
  await inventory?.stop();
  await catalog?.stop();
  await db?.close();
});

const urls = () => ({ catalog: catalog.url, inventory: inventory.url });
const PREVIEW = `mutation($input: PreviewOrderInput!) { previewOrder(input: $input) { previewId total { amount currency } discount { amount } shippingFee { amount } payable { amount } stockCheck expiresAt queuePosition } }`;
const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { replayed order { id status cancelReason expireAt payable { amount } items { sku { id } qty unitPrice { amount } } } } }`;
const ORDER = `query($id: ID!) { order(id: $id) { id status cancelReason version } }`;

async function preview(who: Identity, items: { skuId: string; qty: number }[], extra: Record<string, unknown> = {}) {
  const res = await callSubgraph(order.url, PREVIEW, { input: { items, ...extra } }, who);
  if (res.errors) throw Object.assign(new Error(res.errors[0]!.message), { code: errorCode(res) });
  return res.data!.previewOrder;
}
const place = (who: Identity, previewId: string, clientReqId = `req-${Math.random().toString(36).slice(2)}`) =>
  callSubgraph(order.url, PLACE, { input: { previewId, clientReqId } }, who);
const available = async (skuId: string) =>
  (await sql(db.em.fork()).one<{ n: string }>('SELECT coalesce(sum(available), 0) AS n FROM inventory.stock WHERE sku_id = ?', [skuId]))!.n;
const statusOf = async (id: string) =>
  (await sql(db.em.fork()).one<{ status: string; cancel_reason: string | null }>('SELECT status, cancel_reason FROM ordering.orders WHERE id = ?', [id]))!;
const orderCount = async (userId: string) =>
  Number((await sql(db.em.fork()).one<{ n: string }>('SELECT count(*) AS n FROM ordering.orders WHERE user_id = ?', [userId]))!.n);

const copiedPrice = async (skuId: string) =>
  sql(db.em.fork()).one<{ price: number; revision: number }>('SELECT price, revision FROM ordering.sku_price WHERE sku_id = ?', [skuId]);

/** Changes a SKU's price as an admin does, and waits until the order subgraph's price copy has it (catalog.sku-changed). */
async function changePrice(skuId: string, amount: number) {
  const res = await callSubgraph(
    catalog.url,
    `mutation($i: UpdateSkuInput!) { updateSku(input: $i) { revision } }`,
    { i: { id: skuId, price: amount } },
    admin(),
  );
  expect(res.errors).toBeUndefined();
  const revision = res.data!.updateSku.revision;
  await eventually(async () => {
    expect(await copiedPrice(skuId)).toEqual({ price: amount, revision });
    return true;
  });
}

/** The payment subgraph's payment.succeeded for an order, published as its relay would. */
async function paymentSucceeded(orderId: string, amount: number, tag: string) {
  const { connectBroker } = await import('@shop/kit');
  const connection = connectBroker(`test-payment-${tag}`);
  const pub = connection.createPublisher({ confirm: true });
  await pub.send(
    { exchange: `${process.env.SHOP_RUN_ID}.shop.events`, routingKey: 'payment.succeeded', contentType: 'application/json' },
    {
      eventId: `evt_test_${tag}_${Date.now()}`,
      type: 'payment.succeeded',
      version: 1,
      occurredAt: new Date().toISOString(),
      aggregateId: `pay_${tag}`,
      correlationId: 'test',
      payload: { paymentId: `pay_${tag}`, orderId, paymentTxnId: `txn_${tag}`, amount: { amount, currency: 'CNY' } },
    },
  );
  await pub.close();
  await connection.close();
}

describe('addresses', () => {
  it('stores name, phone and street encrypted, and shows them only to their owner', async () => {
    const alice = user();
    const added = await callSubgraph(
      order.url,
      `mutation($i: AddressInput!) { addAddress(input: $i) { id name phone line1 city country } }`,
      {
        i: { name: 'Li Lei', phone: '+86 138 0000 0000', line1: '1 Nanjing Road', city: 'Shanghai', country: 'CN' },
      },
      alice,
    );
    expect(added.errors).toBeUndefined();
    const id = added.data!.addAddress.id;
    const raw = await sql(db.em.fork()).one<Record<string, string>>('SELECT * FROM ordering.address WHERE id = ?', [id]);
    for (const column of ['name_enc', 'phone_enc', 'line1_enc']) {
      expect(raw![column]).toMatch(/^v2:k1:/);
      expect(raw![column]).not.toMatch(/Li Lei|138|Nanjing/);
    }
    const mine = await callSubgraph(order.url, `{ addresses { id name phone line1 } }`, {}, alice);
    expect(mine.data!.addresses).toEqual([{ id, name: 'Li Lei', phone: '+86 138 0000 0000', line1: '1 Nanjing Road' }]);
    const theirs = await callSubgraph(order.url, `{ addresses { id } }`, {}, user());
    expect(theirs.data!.addresses).toEqual([]);
    const bad = await callSubgraph(
      order.url,
      `mutation($i: AddressInput!) { addAddress(input: $i) { id } }`,
      { i: { name: 'x', phone: 'call me', line1: 'x', city: 'x', country: 'China' } },
      alice,
    );
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
  });
});

describe('preview and placement', () => {
  it('prices with coupon and shipping, places once, holds stock and replays the same key', async () => {
    const skuId = await createStockedSku(urls(), { price: 19950, stock: { 'wh-a': 5 } });
    const code = `SAVE${Date.now()}`.slice(0, 20);
    await sql(db.em.fork()).run(
      "INSERT INTO ordering.coupon (code, kind, amount_off, min_spend, currency, valid_from, valid_to, per_user_limit) VALUES (?, 'THRESHOLD', 2000, 30000, 'CNY', now() - interval '1 day', now() + interval '1 day', 1)",
      [code],
    );
    const buyer = user();
    const p = await preview(buyer, [{ skuId, qty: 2 }], { couponCode: code });
    expect(p).toMatchObject({
      total: { amount: 39900, currency: 'CNY' },
      discount: { amount: 2000 },
      shippingFee: { amount: 1500 + 500 },
      payable: { amount: 39900 - 2000 + 2000 },
      stockCheck: 'PASS',
    });
    const first = await place(buyer, p.previewId, 'checkout-1');
    expect(first.errors).toBeUndefined();
    expect(first.data!.placeOrder).toMatchObject({
      replayed: false,
      order: { status: 'PENDING_PAYMENT', payable: { amount: 39900 }, items: [{ sku: { id: skuId }, qty: 2, unitPrice: { amount: 19950 } }] },
    });
    expect(await available(skuId)).toBe('3');
    const again = await place(buyer, p.previewId, 'checkout-1');
    expect(again.data!.placeOrder).toMatchObject({ replayed: true, order: { id: first.data!.placeOrder.order.id } });
    const other = await preview(buyer, [{ skuId, qty: 1 }]);
    expect(errorCode(await place(buyer, other.previewId, 'checkout-1'))).toBe('ORDER_ALREADY_EXISTS');
    // The coupon's per-user limit of 1 is used up by the first order.
    await expect(preview(buyer, [{ skuId, qty: 2 }], { couponCode: code })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    const events = await sql(db.em.fork()).all<{ to_status: string }>('SELECT to_status FROM ordering.order_event WHERE order_id = ? ORDER BY created_at', [
      first.data!.placeOrder.order.id,
    ]);
    expect(events.map((e) => e.to_status)).toEqual(['CREATED', 'PENDING_PAYMENT']);
  });

  it('answers bad input with clear codes and writes nothing', async () => {
    const skuId = await createStockedSku(urls());
    const buyer = user();
    for (const items of [
      [{ skuId, qty: 0 }],
      [{ skuId, qty: -1 }],
      [{ skuId, qty: 100 }],
      [{ skuId: 'sku_00000000000000000000000000000000', qty: 1 }],
      [{ skuId: 'nope', qty: 1 }],
    ]) {
      await expect(preview(buyer, items)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    }
    const p = await preview(buyer, [{ skuId, qty: 1 }]);
    expect(errorCode(await place(user(), p.previewId))).toBe('FORBIDDEN');
    expect(errorCode(await place(buyer, 'pvw_00000000000000000000000000000000'))).toBe('BAD_USER_INPUT');
    expect(errorCode(await place(buyer, p.previewId, 'bad key with spaces'))).toBe('BAD_USER_INPUT');
    // The preview is a signed token: one made to have expired, and one whose price was altered without its key.
    const claims = verifyPreview(p.previewId, buyer.userId);
    expect(errorCode(await place(buyer, signPreview({ ...claims, expiresAt: Date.now() - 1000 })))).toBe('PREVIEW_EXPIRED');
    const [head, body, mac] = p.previewId.split('.');
    const altered = { ...claims, lines: claims.lines.map((l) => ({ ...l, unitPrice: 1 })), total: 1, payable: 1 };
    expect(body).toBe(Buffer.from(JSON.stringify(claims)).toString('base64url'));
    expect(errorCode(await place(buyer, `${head}.${Buffer.from(JSON.stringify(altered)).toString('base64url')}.${mac}`))).toBe('BAD_USER_INPUT');
    expect(await orderCount(buyer.userId)).toBe(0);
  });

  it('refuses a preview whose prices changed (PREVIEW_EXPIRED), and prices a new preview at the new price', async () => {
    const skuId = await createStockedSku(urls(), { price: 5000 });
    const buyer = user();
    const p = await preview(buyer, [{ skuId, qty: 1 }]);
    expect(p.total).toEqual({ amount: 5000, currency: 'CNY' });
    await changePrice(skuId, 5500);
    expect(errorCode(await place(buyer, p.previewId))).toBe('PREVIEW_EXPIRED');
    expect(await orderCount(buyer.userId)).toBe(0);
    // A new preview sees the new price (this process reuses a SKU's facts for PREVIEW_PRICES_TTL_MS at most) and places.
    const again = await eventually(async () => {
      const q = await preview(buyer, [{ skuId, qty: 1 }]);
      expect(q.total.amount).toBe(5500);
      return q;
    });
    const placed = await place(buyer, again.previewId);
    expect(placed.errors).toBeUndefined();
    expect(placed.data!.placeOrder.order.items[0].unitPrice.amount).toBe(5500);
  });

  it('writes an order its preview still holds in one statement after the per-user lock, without reading first; a rule that hits decides in a transaction that reads', async () => {
    const skuId = await createStockedSku(urls(), { price: 5000, stock: { 'wh-a': 5 } });
    const buyer = user();
    const p = await preview(buyer, [{ skuId, qty: 1 }]);
    // Every statement of the subgraph, with the connection that sent it (the pools share pg's Client class).
    const pool = (await db.em.getConnection().getNativeClient()) as unknown as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
    const spy = vi.spyOn(pool.Client.prototype, 'query');
    /** The texts the connection that wrote the user's order sent, from its BEGIN to its COMMIT. */
    const placementOf = (userId: string) => {
      const calls = spy.mock.calls.map(([q, values], i) => ({
        text: typeof q === 'string' ? q : String((q as { text?: string }).text),
        values: (typeof q === 'string' ? values : (q as { values?: unknown[] }).values) ?? [],
        client: spy.mock.contexts[i],
      }));
      const writes = (c: { text: string; values: unknown }) => /insert into "order_request"/i.test(c.text) && (c.values as unknown[]).includes(userId);
      const client = calls.find(writes)?.client;
      const own = calls.filter((c) => c.client === client);
      const at = own.findIndex(writes);
      const texts = own.map((c) => c.text);
      const begin = texts.slice(0, at).findLastIndex((t) => /^begin/i.test(t));
      const commit = at + texts.slice(at).findIndex((t) => /^commit/i.test(t));
      return texts.slice(begin, commit + 1).map((t) => t.replace(/\s+/g, ' ').slice(0, 40).toLowerCase());
    };
    try {
      const placed = await place(buyer, p.previewId);
      expect(placed.errors).toBeUndefined();
      // With user-velocity on (as here): BEGIN, the per-user lock, the write, COMMIT; the prices and counts are conditions of the write.
      const statements = placementOf(buyer.userId);
      expect(statements).toHaveLength(4);
      expect(statements[0]).toMatch(/^begin/);
      expect(statements[1]).toContain('pg_advisory_xact_lock');
      expect(statements[2]).toMatch(/^with "ok_0" as/);
      expect(statements[3]).toMatch(/^commit/);

      // 20 orders from this IP in the window: ip-velocity asks for a review. The write's condition fails,
      // and the placement that reads decides: the order is placed for review, the decision recorded.
      const ip = `10.9.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
      const earlier = Array.from({ length: 20 }, () => newId('ord'));
      await sql(db.em.fork()).run(
        `INSERT INTO ordering.orders (id, user_id, status, currency, total, discount, shipping_fee, payable, preview_id, flash_sale, expire_at, client_ip)
         VALUES ${earlier.map(() => `(?, 'u_other', 'COMPLETED', 'CNY', 100, 0, 0, 100, 'pvw_t', false, now() + interval '1 hour', ?)`).join(', ')}`,
        earlier.flatMap((id) => [id, ip]),
      );
      const reviewed = user();
      const q = await preview(reviewed, [{ skuId, qty: 1 }]);
      const res = await callSubgraph(order.url, PLACE, { input: { previewId: q.previewId, clientReqId: 'review-1' } }, reviewed, { 'x-shop-client-ip': ip });
      expect(res.errors).toBeUndefined();
      const decided = placementOf(reviewed.userId);
      expect(decided.some((t) => t.startsWith('select'))).toBe(true);
      const decisions = await sql(db.em.fork()).all<{ rule_id: string; order_id: string }>(
        'SELECT rule_id, order_id FROM ordering.risk_decision WHERE user_id = ?',
        [reviewed.userId],
      );
      expect(decisions).toEqual([{ rule_id: 'ip-velocity', order_id: res.data!.placeOrder.order.id }]);
    } finally {
      spy.mockRestore();
    }
  });

  it('prices a SKU its copy has not seen from the catalog, once, and keeps it', async () => {
    // A SKU written straight into the catalog's tables (as demo data is): no catalog.sku-changed reaches the copy.
    const productId = newId('prd');
    const skuId = newId('sku');
    await sql(db.em.fork()).run(`INSERT INTO catalog.product (id, title, description) VALUES (?, 'Unseen', 'no event')`, [productId]);
    await sql(db.em.fork()).run(`INSERT INTO catalog.sku (id, product_id, title, price_amount, currency, revision) VALUES (?, ?, 'one', 4200, 'CNY', 7)`, [
      skuId,
      productId,
    ]);
    expect(await copiedPrice(skuId)).toBeUndefined();
    const p = await preview(user(), [{ skuId, qty: 1 }]);
    expect(p.total).toEqual({ amount: 4200, currency: 'CNY' });
    expect(await copiedPrice(skuId)).toEqual({ price: 4200, revision: 7 });
  });

  it('answers a retry with its order after the prices changed or the preview expired (a replay, never PREVIEW_EXPIRED)', async () => {
    const skuId = await createStockedSku(urls(), { price: 5000 });
    const buyer = user();
    const p = await preview(buyer, [{ skuId, qty: 1 }]);
    const first = await place(buyer, p.previewId, 'retry-after-change');
    expect(first.errors).toBeUndefined();
    await changePrice(skuId, 5500);
    const again = await place(buyer, p.previewId, 'retry-after-change');
    expect(again.data!.placeOrder).toMatchObject({ replayed: true, order: { id: first.data!.placeOrder.order.id } });
    const claims = verifyPreview(p.previewId, buyer.userId);
    const expired = await place(buyer, signPreview({ ...claims, expiresAt: Date.now() - 1000 }), 'retry-after-change');
    expect(expired.data!.placeOrder).toMatchObject({ replayed: true, order: { id: first.data!.placeOrder.order.id } });
    expect(await orderCount(buyer.userId)).toBe(1);
  });

  it('creates one order for 20 concurrent calls with one key; 19 are replays', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-a': 100 } });
    const buyer = user();
    const p = await preview(buyer, [{ skuId, qty: 1 }]);
    const results = await Promise.all(Array.from({ length: 20 }, () => place(buyer, p.previewId, 'same-key')));
    expect(results.every((r) => r.errors === undefined)).toBe(true);
    const ids = new Set(results.map((r) => r.data!.placeOrder.order.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.data!.placeOrder.replayed)).toHaveLength(19);
    expect(await orderCount(buyer.userId)).toBe(1);
    expect(await available(skuId)).toBe('99');
  });

  it('never oversells: stock 50, 300 buyers at once → 50 orders hold stock, 250 STOCK_NOT_ENOUGH', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-a': 30, 'wh-b': 20 } });
    const buyers = Array.from({ length: 300 }, () => user());
    const previews: string[] = [];
    for (let i = 0; i < buyers.length; i += 25) {
      previews.push(...(await Promise.all(buyers.slice(i, i + 25).map((b) => preview(b, [{ skuId, qty: 1 }])))).map((p) => p.previewId));
    }
    const answersShared = async () =>
      (await registry.getSingleMetric('group_commit_units_total')!.get()).values
        .filter((v) => v.labels.name === 'order-reservation-answers' && v.labels.how === 'shared')
        .reduce((n, v) => n + v.value, 0);
    const sharedBefore = await answersShared();
    const results = await Promise.all(buyers.map((b, i) => place(b, previews[i]!)));
    const held = results.filter((r) => r.data?.placeOrder?.order.status === 'PENDING_PAYMENT');
    const refused = results.filter((r) => errorCode(r) === 'STOCK_NOT_ENOUGH');
    expect(held).toHaveLength(50);
    expect(refused).toHaveLength(250);
    expect(await available(skuId)).toBe('0');
    // Inventory's answers were recorded together (placement.ts answersOf): each order moved once, audited
    // once, and its held-back order.created withdrawn, whatever group its answer shared.
    expect((await answersShared()) - sharedBefore).toBeGreaterThan(0);
    const trails = await sql(db.em.fork()).all<{ status: string; events: string; created: string }>(
      `SELECT o.status, string_agg(e.event_type, ',' ORDER BY e.version) AS events,
              (SELECT count(*) FROM ordering.outbox x WHERE x.body @> jsonb_build_object('aggregateId', o.id) AND x.type = 'order.created') AS created
         FROM ordering.orders o JOIN ordering.order_event e ON e.order_id = o.id
        WHERE o.user_id = ANY(?::text[]) GROUP BY o.id, o.status`,
      [`{${buyers.map((b) => b.userId).join(',')}}`],
    );
    expect(trails).toHaveLength(300);
    expect(trails.filter((t) => t.status === 'PENDING_PAYMENT' && t.events === 'ORDER_CREATED,ORDER_PENDING_PAYMENT')).toHaveLength(50);
    expect(trails.filter((t) => t.status === 'CANCELED' && t.events === 'ORDER_CREATED,ORDER_CANCELED')).toHaveLength(250);
    expect(trails.filter((t) => Number(t.created) !== 0)).toEqual([]);
    // Each buyer was answered with its own order, as the database has it.
    const answered = held.map((r) => r.data!.placeOrder.order.id as string);
    expect(new Set(answered).size).toBe(50);
    for (const id of answered) expect((await statusOf(id)).status).toBe('PENDING_PAYMENT');
    const owners = await sql(db.em.fork()).all<{ user_id: string }>('SELECT user_id FROM ordering.orders WHERE id = ANY(?::text[])', [
      `{${answered.join(',')}}`,
    ]);
    expect(owners.map((o) => o.user_id).sort()).toEqual(
      buyers
        .filter((b, i) => results[i]!.data?.placeOrder)
        .map((b) => b.userId)
        .sort(),
    );
    const inv = await openDatabase({ ...inventoryDatabase, poolMax: 2 });
    try {
      expect(await stockInvariantViolations(inv.em.fork())).toEqual([]);
    } finally {
      await inv.close();
    }
    const sku = await callSubgraph(inventory.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Sku { available } } }`, {
      r: [{ __typename: 'Sku', id: skuId }],
    });
    expect(sku.data!._entities[0].available).toBe(0);
  }, 120_000);
});

describe('lifecycle', () => {
  it('cancels for its owner only, gives the stock back, and refuses a second cancel', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-a': 4 } });
    const buyer = user();
    const placed = await place(buyer, (await preview(buyer, [{ skuId, qty: 3 }])).previewId);
    const id = placed.data!.placeOrder.order.id;
    const CANCEL = `mutation($id: ID!) { cancelOrder(orderId: $id) { status cancelReason } }`;
    expect(errorCode(await callSubgraph(order.url, CANCEL, { id }, user()))).toBe('FORBIDDEN');
    expect(errorCode(await callSubgraph(order.url, ORDER, { id }, user()))).toBe('FORBIDDEN');
    expect((await callSubgraph(order.url, ORDER, { id }, admin())).data!.order.status).toBe('PENDING_PAYMENT');
    const canceled = await callSubgraph(order.url, CANCEL, { id }, buyer);
    expect(canceled.data!.cancelOrder).toEqual({ status: 'CANCELED', cancelReason: 'USER_CANCELED' });
    await eventually(async () => ((await available(skuId)) === '4' ? true : undefined));
    expect(errorCode(await callSubgraph(order.url, CANCEL, { id }, buyer))).toBe('ORDER_STATE_INVALID');
  });

  it('cancels unpaid orders at their deadline and returns their stock; an order paid at the last moment stays PAID', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-a': 10 } });
    process.env.ORDER_PAYMENT_TTL_SECONDS = '2';
    try {
      const unpaidBuyer = user();
      const unpaid = (await place(unpaidBuyer, (await preview(unpaidBuyer, [{ skuId, qty: 2 }])).previewId)).data!.placeOrder.order;
      const payer = user();
      const paid = (await place(payer, (await preview(payer, [{ skuId, qty: 3 }])).previewId)).data!.placeOrder.order;
      expect(await available(skuId)).toBe('5');
      // The payment subgraph's success event for `paid`, just before its deadline.
      await paymentSucceeded(paid.id, paid.payable.amount, 'x');
      await eventually(async () => ((await statusOf(unpaid.id)).status === 'CANCELED' ? true : undefined));
      expect(await statusOf(unpaid.id)).toEqual({ status: 'CANCELED', cancel_reason: 'PAYMENT_TIMEOUT' });
      await eventually(async () => ((await statusOf(paid.id)).status === 'PAID' ? true : undefined));
      // Past the deadline of the paid order the sweeper has run several times: it stays PAID, its stock sold.
      await eventually(async () => (Date.now() > new Date(paid.expireAt ?? 0).getTime() + 1000 ? true : undefined), { timeoutMs: 5000 }).catch(() => undefined);
      await eventually(async () => ((await available(skuId)) === '7' ? true : undefined));
      expect((await statusOf(paid.id)).status).toBe('PAID');
      const sold = await sql(db.em.fork()).one<{ sold: string; reserved: string }>(
        'SELECT sum(sold) AS sold, sum(reserved) AS reserved FROM inventory.stock WHERE sku_id = ?',
        [skuId],
      );
      await eventually(async () => {
        const s = await sql(db.em.fork()).one<{ sold: string }>('SELECT sum(sold) AS sold FROM inventory.stock WHERE sku_id = ?', [skuId]);
        return s!.sold === '3' ? true : undefined;
      });
      expect(sold).toBeDefined();
    } finally {
      delete process.env.ORDER_PAYMENT_TTL_SECONDS;
    }
  });

  it('keeps an order whose payment arrives in the grace window after its deadline; cancels the unpaid one after the window', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-a': 10 } });
    process.env.ORDER_PAYMENT_TTL_SECONDS = '1';
    process.env.ORDER_PAYMENT_GRACE_SECONDS = '3';
    try {
      const late = user();
      const paidLate = (await place(late, (await preview(late, [{ skuId, qty: 1 }])).previewId)).data!.placeOrder.order;
      const idle = user();
      const unpaid = (await place(idle, (await preview(idle, [{ skuId, qty: 1 }])).previewId)).data!.placeOrder.order;
      const deadline = Date.parse(paidLate.expireAt);
      // Past the deadline, inside the grace window: both orders still hold their stock.
      await eventually(async () => (Date.now() > deadline + 500 ? true : undefined), { timeoutMs: 5000 });
      expect((await statusOf(paidLate.id)).status).toBe('PENDING_PAYMENT');
      expect((await statusOf(unpaid.id)).status).toBe('PENDING_PAYMENT');
      // The provider captured before the deadline; its success reaches the order only now.
      await paymentSucceeded(paidLate.id, paidLate.payable.amount, 'grace');
      await eventually(async () => ((await statusOf(paidLate.id)).status === 'PAID' ? true : undefined));
      await eventually(async () => ((await statusOf(unpaid.id)).status === 'CANCELED' ? true : undefined), { timeoutMs: 8000 });
      expect(await statusOf(unpaid.id)).toEqual({ status: 'CANCELED', cancel_reason: 'PAYMENT_TIMEOUT' });
      expect((await statusOf(paidLate.id)).status).toBe('PAID');
    } finally {
      delete process.env.ORDER_PAYMENT_TTL_SECONDS;
      process.env.ORDER_PAYMENT_GRACE_SECONDS = '0';
    }
  });

  it('holds the per-user limit under concurrency: 12 orders of one user at once, 5 placed (user-velocity), 7 RISK_REJECTED', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-a': 20 } });
    const buyer = user();
    const previews = await Promise.all(Array.from({ length: 12 }, () => preview(buyer, [{ skuId, qty: 1 }])));
    const results = await Promise.all(previews.map((p) => place(buyer, p.previewId)));
    const placed = results.filter((r) => !r.errors);
    expect(placed).toHaveLength(5);
    expect(results.filter((r) => errorCode(r) === 'RISK_REJECTED')).toHaveLength(7);
    expect(await orderCount(buyer.userId)).toBe(5);
  });

  it('lists the signed-in user orders newest first with a status filter', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-a': 10 } });
    const buyer = user();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await place(buyer, (await preview(buyer, [{ skuId, qty: 1 }])).previewId)).data!.placeOrder.order.id);
    await callSubgraph(order.url, `mutation($id: ID!) { cancelOrder(orderId: $id) { id } }`, { id: ids[0] }, buyer);
    const Q = `query($after: String, $status: OrderStatus) { orders(first: 2, after: $after, status: $status) { edges { node { id status } } pageInfo { hasNextPage endCursor } } }`;
    const page1 = (await callSubgraph(order.url, Q, {}, buyer)).data!.orders;
    expect(page1.edges.map((e: any) => e.node.id)).toEqual([ids[2], ids[1]]);
    const page2 = (await callSubgraph(order.url, Q, { after: page1.pageInfo.endCursor }, buyer)).data!.orders;
    expect(page2.edges.map((e: any) => e.node.id)).toEqual([ids[0]]);
    const canceled = (await callSubgraph(order.url, Q, { status: 'CANCELED' }, buyer)).data!.orders;
    expect(canceled.edges.map((e: any) => e.node.id)).toEqual([ids[0]]);
    expect((await callSubgraph(order.url, Q, {}, user())).data!.orders.edges).toEqual([]);
    expect(errorCode(await callSubgraph(order.url, Q, {}))).toBe('UNAUTHENTICATED');
  });
});

describe('flash sale', () => {
  /** Flash placements committed so far by their group commit (placement.ts), however they shared transactions. */
  const flashPlacementsCommitted = async () =>
    (await registry.getSingleMetric('group_commit_units_total')!.get()).values
      .filter((v) => v.labels.name === 'order-flash-placements')
      .reduce((n, v) => n + v.value, 0);
  const previewCall = (who: Identity, skuId: string) => callSubgraph(order.url, PREVIEW, { input: { items: [{ skuId, qty: 1 }] } }, who);
  /** The first preview registers the SKU; inventory publishes its stock to Redis within a sync (FLASH_SALE_SYNC_MS). */
  const opened = (skuId: string) =>
    eventually(async () => {
      const res = await previewCall(user(), skuId);
      return errorCode(res) === 'FLASH_SALE_THROTTLED' && res.errors![0]!.extensions!.reason === 'OPENING' ? undefined : res;
    });

  it('admits no more buyers than units at the preview, writes an order only for them, and reserves asynchronously', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-a': 5 }, flashSale: true });
    const first = await opened(skuId);
    expect(first.data!.previewOrder).toMatchObject({ queuePosition: 1, stockCheck: 'PASS' });
    const buyers = Array.from({ length: 20 }, () => user());
    const answers = await Promise.all(buyers.map((b) => previewCall(b, skuId)));
    const admitted = buyers.flatMap((b, i) =>
      answers[i]!.data?.previewOrder ? [{ buyer: b, previewId: answers[i]!.data!.previewOrder.previewId as string }] : [],
    );
    // Five units, one promised to the first buyer: four more admitted; the burst (10) is not what bounds them.
    expect(admitted).toHaveLength(4);
    const refused = answers.filter((r) => r.errors);
    expect(refused.map(errorCode)).toEqual(Array(16).fill('STOCK_NOT_ENOUGH'));
    expect(refused[0]!.errors![0]!.extensions).toMatchObject({ reason: 'SOLD_OUT', skuId });
    for (const b of buyers.filter((b) => !admitted.some((a) => a.buyer === b))) expect(await orderCount(b.userId)).toBe(0);

    // The queued path: accepted as CREATED at once, then inventory decides from order.created.
    const committedBefore = await flashPlacementsCommitted();
    const results = await Promise.all(admitted.map((a) => place(a.buyer, a.previewId)));
    expect(results.map((r) => r.data?.placeOrder.order.status)).toEqual(Array(4).fill('CREATED'));
    // Each placement went through the flash placements' group commit, and committed once.
    expect((await flashPlacementsCommitted()) - committedBefore).toBe(4);
    const ids = results.map((r) => r.data!.placeOrder.order.id as string);
    // Written together or alone (writeOrders), each order has its own request key, item, audit row and order.created.
    const written = await sql(db.em.fork()).all<{ user_id: string; requests: string; items: string; audits: string; created: string }>(
      `SELECT o.user_id,
              (SELECT count(*) FROM ordering.order_request r WHERE r.order_id = o.id AND r.user_id = o.user_id) AS requests,
              (SELECT count(*) FROM ordering.order_item i WHERE i.order_id = o.id AND i.sku_id = ?) AS items,
              (SELECT count(*) FROM ordering.order_event e WHERE e.order_id = o.id AND e.event_type = 'ORDER_CREATED') AS audits,
              (SELECT count(*) FROM ordering.outbox x WHERE x.body @> jsonb_build_object('aggregateId', o.id) AND x.type = 'order.created') AS created
         FROM ordering.orders o WHERE o.id = ANY(?::text[])`,
      [skuId, `{${ids.join(',')}}`],
    );
    const byUser = (x: { user_id: string }, y: { user_id: string }) => (x.user_id < y.user_id ? -1 : 1);
    expect(written.sort(byUser)).toEqual(admitted.map((a) => ({ user_id: a.buyer.userId, requests: '1', items: '1', audits: '1', created: '1' })).sort(byUser));
    const settled = await eventually(
      async () => {
        const statuses = await Promise.all(ids.map(statusOf));
        return statuses.every((st) => st.status !== 'CREATED') ? statuses : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(settled.map((st) => st.status)).toEqual(Array(4).fill('PENDING_PAYMENT'));
    expect(await available(skuId)).toBe('1');

    // One live attempt per buyer: a second preview or placement answers the order the buyer has.
    const again = await previewCall(admitted[0]!.buyer, skuId);
    expect(errorCode(again)).toBe('ORDER_ALREADY_EXISTS');
    expect(again.errors![0]!.extensions).toMatchObject({ orderId: ids[0], reason: 'ONE_PER_BUYER' });
    // Without an admission nothing is written, whatever the preview.
    const stranger = user();
    const normal = await createStockedSku(urls(), { stock: { 'wh-a': 5 } });
    const otherPreview = await preview(stranger, [{ skuId: normal, qty: 1 }]);
    expect(otherPreview.queuePosition ?? null).toBeNull();
    await expect(preview(stranger, [{ skuId, qty: 2 }])).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('answers sold out without writing, and sells again once a canceled order returns its unit', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-a': 1 }, flashSale: true });
    const winner = user();
    const res = await eventually(async () => {
      const r = await previewCall(winner, skuId);
      return r.data?.previewOrder ? r : undefined;
    });
    const placed = await place(winner, res.data!.previewOrder.previewId);
    const orderId = placed.data!.placeOrder.order.id as string;
    await eventually(async () => ((await statusOf(orderId)).status === 'PENDING_PAYMENT' ? true : undefined), { timeoutMs: 20_000 });
    const late = user();
    expect(errorCode(await previewCall(late, skuId))).toBe('STOCK_NOT_ENOUGH');
    expect(await orderCount(late.userId)).toBe(0);

    await callSubgraph(order.url, `mutation($id: ID!) { cancelOrder(orderId: $id) { id } }`, { id: orderId }, winner);
    const resumed = await eventually(async () => {
      const r = await previewCall(late, skuId);
      return r.data?.previewOrder ? r : undefined;
    });
    expect(resumed.data!.previewOrder.queuePosition).toBe(1);
  });
});
