// The invariants `npm run chaos` checks after its faults: stock, orders, money, messages, readiness.

const PAID_LIKE = ['PAID', 'SHIPPED', 'COMPLETED'];
const HOLDING = ['CREATED', 'REVIEW', 'PENDING_PAYMENT'];

/**
 * @returns {Promise<{ ok: boolean, label: string, detail: string }[]>}
 */
export async function checkInvariants({ db, rabbit, pspUrl, onHand, answered, readyAfterMs, notReady, fresh }) {
  const checks = [];
  const check = (ok, label, detail) => checks.push({ ok, label, detail });
  const q = async (text, params = []) => (await db.query(text, params)).rows;
  const skuIds = [...new Set([...onHand.keys()].map((k) => k.split('|')[0]))];

  // Stock: conserved and never negative; held and sold match the orders.
  const stock = await q('SELECT sku_id, warehouse_id, available, reserved, sold FROM inventory.stock WHERE sku_id = ANY($1)', [skuIds]);
  const wrong = stock.filter((r) => r.available + r.reserved + r.sold !== onHand.get(`${r.sku_id}|${r.warehouse_id}`));
  const negative = stock.filter((r) => r.available < 0 || r.reserved < 0 || r.sold < 0);
  check(
    wrong.length === 0 && stock.length === onHand.size,
    'stock conserved (available + reserved + sold = on hand)',
    wrong.length ? JSON.stringify(wrong) : `${stock.length} rows`,
  );
  check(negative.length === 0, 'stock never negative', negative.length ? JSON.stringify(negative) : 'none');
  const byStatus = await q(
    `SELECT o.status, sum(i.qty)::int AS qty FROM ordering.orders o JOIN ordering.order_item i ON i.order_id = o.id WHERE i.sku_id = ANY($1) GROUP BY o.status`,
    [skuIds],
  );
  const qty = (statuses) => byStatus.filter((r) => statuses.includes(r.status)).reduce((n, r) => n + r.qty, 0);
  const sold = stock.reduce((n, r) => n + r.sold, 0);
  const reserved = stock.reduce((n, r) => n + r.reserved, 0);
  check(
    sold === qty(PAID_LIKE) && reserved === qty(HOLDING),
    'stock agrees with orders (sold = paid orders, reserved = waiting orders)',
    `sold ${sold} / paid ${qty(PAID_LIKE)}, reserved ${reserved} / waiting ${qty(HOLDING)}`,
  );

  // Orders: every answered order is there and settled.
  const ids = [...answered.keys()];
  const orders = new Map((await q('SELECT id, status FROM ordering.orders WHERE id = ANY($1)', [ids])).map((r) => [r.id, r.status]));
  const missing = ids.filter((i) => !orders.has(i));
  check(
    missing.length === 0,
    'every answered order present',
    missing.length ? `${missing.length} missing: ${missing.slice(0, 3).join(', ')}` : `${ids.length} orders`,
  );
  const payments = await q('SELECT id, order_id, status FROM payment.payment');
  const paymentsOf = new Map();
  for (const p of payments) paymentsOf.set(p.order_id, [...(paymentsOf.get(p.order_id) ?? []), p]);
  const unsettled = [];
  for (const [orderId, record] of answered) {
    const status = orders.get(orderId);
    if (!status) continue;
    if (status === 'CREATED') unsettled.push(`${orderId} CREATED`);
    if (!record.paid) continue;
    const refunded = (paymentsOf.get(orderId) ?? []).some((p) => p.status === 'REFUNDED');
    const ok = record.refundAsked
      ? status === 'REFUNDED' || refunded
      : PAID_LIKE.includes(status) || status === 'REFUNDED' || (status === 'CANCELED' && refunded);
    if (!ok) unsettled.push(`${orderId} ${status} (payments ${(paymentsOf.get(orderId) ?? []).map((p) => p.status).join('/') || 'none'})`);
  }
  check(unsettled.length === 0, 'every answered order settled (paid ones PAID or refunded)', unsettled.length ? unsettled.slice(0, 5).join('; ') : 'all');

  // Money: every capture at the provider is on a paid order or refunded, and the other way round.
  const { transactions } = await (await fetch(`${pspUrl}/admin/transactions`)).json();
  const ours = new Map(payments.map((p) => [p.id, p]));
  const drift = [];
  for (const t of transactions) {
    const p = ours.get(t.paymentId);
    if (t.status === 'SUCCEEDED' && !(p?.status === 'SUCCEEDED' && PAID_LIKE.includes(orders.get(p.order_id) ?? ''))) {
      drift.push(`captured ${t.paymentId}: ours ${p?.status ?? 'none'}, order ${orders.get(p?.order_id) ?? '?'}`);
    }
    if (t.status === 'REFUNDED' && p?.status !== 'REFUNDED') drift.push(`refunded ${t.paymentId}: ours ${p?.status ?? 'none'}`);
    if (t.status !== 'SUCCEEDED' && t.status !== 'REFUNDED' && (p?.status === 'SUCCEEDED' || p?.status === 'REFUNDED'))
      drift.push(`${t.paymentId} ${t.status} at the provider, ours ${p.status}`);
  }
  check(
    drift.length === 0,
    'every captured payment on a paid order or refunded',
    drift.length ? drift.slice(0, 5).join('; ') : `${transactions.length} provider transactions`,
  );

  // No duplicate effects.
  const doubled = await q(
    `SELECT order_id, count(*)::int AS n FROM payment.payment WHERE status IN ('SUCCEEDED', 'REFUNDED') GROUP BY order_id HAVING count(*) > 1`,
  );
  const doubleShipments = await q(
    `SELECT order_id, warehouse_id, count(*)::int AS n FROM fulfillment.shipment GROUP BY order_id, warehouse_id HAVING count(*) > 1`,
  );
  const doubleRefunds = await q(
    `SELECT order_id, count(*)::int AS n FROM ordering.refund_request WHERE status = 'SUCCEEDED' GROUP BY order_id HAVING count(*) > 1`,
  );
  check(
    doubled.length + doubleShipments.length + doubleRefunds.length === 0,
    'no duplicate effects (payments, shipments, refunds per order)',
    `${doubled.length} orders paid twice, ${doubleShipments.length} doubled shipments, ${doubleRefunds.length} refunded twice`,
  );

  // Messages: outboxes drained, nothing dead-lettered or still waiting for a retry.
  const pendingOutbox = [];
  for (const schema of ['ordering', 'inventory', 'payment', 'fulfillment']) {
    const [row] = await q(`SELECT count(*)::int AS n FROM ${schema}.outbox WHERE published_at IS NULL`);
    if (row.n > 0) pendingOutbox.push(`${schema}: ${row.n}`);
  }
  check(pendingOutbox.length === 0, 'outboxes drained', pendingOutbox.length ? pendingOutbox.join(', ') : 'all published');
  const queues = await rabbit.queues();
  const dead = [...queues].filter(([name, n]) => name.endsWith('.dlq') && n > 0);
  const retrying = [...queues].filter(([name, n]) => name.includes('.retry.') && n > 0);
  check(
    dead.length === 0,
    'dead-letter queues empty',
    dead.length ? dead.map(([name, n]) => `${name}: ${n}`).join(', ') : `${[...queues.keys()].filter((n) => n.endsWith('.dlq')).length} DLQs empty`,
  );
  check(retrying.length === 0, 'no event still waiting for a retry', retrying.length ? retrying.map(([name, n]) => `${name}: ${n}`).join(', ') : 'none');

  // Processes: ready again within 30 s of the last fault, and a new order goes through.
  check(
    notReady.length === 0 && readyAfterMs <= 30_000,
    'every process ready within 30 s of the last fault',
    notReady.length ? `not ready: ${notReady.join(', ')}` : `${(readyAfterMs / 1000).toFixed(1)} s`,
  );
  check(fresh.ok, 'a new order placed and paid after the faults', fresh.detail);
  return checks;
}
