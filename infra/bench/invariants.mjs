// The business rules the benchmark checks after the run: never oversell, stock accounting adds up,
// order and stock agree, the gateway shows what the database holds, no order lost or duplicated.

/**
 * @param {{ stock: any[], statuses: {status: string, reason: string, n: number}[], pendingQty: Map<string, number>, holdsByOrder: number }} snap
 * @param {{ set: Map<string, Map<string, number>>, hotSkuIds: string[], qty: number, gatewayAvailable: Map<string, number|undefined>,
 *           settled: { ms?: number, created: number }, client: { placed: number, errors: number, stockNotEnough: number } }} expected
 * @returns {{ ok: boolean, label: string, detail: string }[]}
 */
export function checkInvariants(snap, expected) {
  const checks = [];
  const check = (ok, label, detail) => checks.push({ ok, label, detail });
  const rows = new Map(snap.stock.map((r) => [`${r.skuId}|${r.warehouseId}`, r]));

  // 1. Per SKU and warehouse: available + reserved + sold == the on-hand set, nothing negative.
  const accounting = [];
  let negative = 0;
  for (const [skuId, byWarehouse] of expected.set) {
    for (const [warehouseId, onHand] of byWarehouse) {
      const r = rows.get(`${skuId}|${warehouseId}`);
      if (!r) {
        accounting.push(`${skuId}@${warehouseId} missing`);
        continue;
      }
      if (r.available < 0 || r.reserved < 0 || r.sold < 0) negative += 1;
      if (r.available + r.reserved + r.sold !== onHand) accounting.push(`${short(skuId)}@${warehouseId}: ${r.available}+${r.reserved}+${r.sold} != ${onHand}`);
    }
  }
  const unexpected = snap.stock.filter((r) => !expected.set.get(r.skuId)?.has(r.warehouseId));
  check(
    accounting.length === 0 && unexpected.length === 0,
    'available + reserved + sold == stock set',
    accounting.length || unexpected.length
      ? [...accounting, ...unexpected.map((r) => `unexpected row ${r.skuId}@${r.warehouseId}`)].join('; ')
      : `${snap.stock.length} rows`,
  );
  check(negative === 0, 'no negative quantity (no oversell)', negative ? `${negative} rows negative` : 'none negative');

  // 2. reserved / sold agree with the reservation rows (inventory's own invariant).
  const reservationDiff = snap.stock.filter((r) => r.reserved !== r.held || r.sold !== r.confirmed);
  check(
    reservationDiff.length === 0,
    'reserved/sold == HOLD/CONFIRMED reservations',
    reservationDiff.length ? reservationDiff.map((r) => `${short(r.skuId)}@${r.warehouseId} reserved ${r.reserved} held ${r.held}`).join('; ') : 'agree',
  );

  // 3. Sku.available through the gateway == the sum over warehouses.
  const gatewayDiff = [];
  for (const skuId of expected.set.keys()) {
    const sum = snap.stock.filter((r) => r.skuId === skuId).reduce((s, r) => s + r.available, 0);
    const shown = expected.gatewayAvailable.get(skuId);
    if (shown !== sum) gatewayDiff.push(`${short(skuId)} gateway ${shown} db ${sum}`);
  }
  check(gatewayDiff.length === 0, 'Sku.available (gateway) == sum of available', gatewayDiff.join('; ') || `${expected.set.size} SKUs agree`);

  // 4. Orders and stock agree: what PENDING_PAYMENT orders hold is exactly what is reserved.
  const pending = snap.statuses.filter((s) => s.status === 'PENDING_PAYMENT').reduce((n, s) => n + s.n, 0);
  const hotReserved = snap.stock.filter((r) => expected.hotSkuIds.includes(r.skuId)).reduce((s, r) => s + r.reserved, 0);
  check(pending * expected.qty === hotReserved, 'PENDING_PAYMENT orders == hot reserved / qty', `${pending} orders, ${hotReserved} reserved / ${expected.qty}`);
  const perSku = [];
  for (const skuId of expected.set.keys()) {
    const reserved = snap.stock.filter((r) => r.skuId === skuId).reduce((s, r) => s + r.reserved, 0);
    const held = snap.pendingQty.get(skuId) ?? 0;
    if (reserved !== held) perSku.push(`${short(skuId)} reserved ${reserved}, pending orders hold ${held}`);
  }
  check(perSku.length === 0, 'reserved == units of PENDING_PAYMENT orders (every SKU)', perSku.join('; ') || 'agree');
  check(snap.holdsByOrder === pending, 'HOLD reservations == PENDING_PAYMENT orders', `${snap.holdsByOrder} holds, ${pending} orders`);

  // 5. Nothing left half-way, nothing lost or duplicated.
  check(
    expected.settled.created === 0,
    'no order left CREATED',
    expected.settled.ms === undefined ? `${expected.settled.created} still CREATED after 30 s` : `settled in ${expected.settled.ms} ms`,
  );
  const { placed, errors, stockNotEnough } = expected.client;
  const outOfStock = snap.statuses.filter((s) => s.status === 'CANCELED' && s.reason === 'OUT_OF_STOCK').reduce((n, s) => n + s.n, 0);
  // A call that failed in transport may still have created an order: then only bounds can be checked.
  check(
    errors === 0 ? pending === placed : pending >= placed && pending <= placed + errors,
    'orders in database == orders placed (client)',
    `${pending} PENDING_PAYMENT in db, ${placed} placed${errors ? `, ${errors} calls failed` : ''}`,
  );
  check(
    errors === 0 ? outOfStock === stockNotEnough : outOfStock >= stockNotEnough && outOfStock <= stockNotEnough + errors,
    'OUT_OF_STOCK cancels == STOCK_NOT_ENOUGH answers',
    `${outOfStock} in db, ${stockNotEnough} answered`,
  );
  return checks;
}

const short = (id) => `${id.slice(0, 8)}…${id.slice(-4)}`;
