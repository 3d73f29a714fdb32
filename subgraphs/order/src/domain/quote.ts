import { badInput, envInt, fetchEntities, type EntityManager, type Selectable, type SkuFacts } from '@shop/kit';
import { copiedSkuFacts } from './prices.js';
import { db, type Db } from '../persistence.js';
import { couponProblem, priceOrder, type Coupon, type PriceBreakdown, type PricedLine, type ShippingRate } from './pricing.js';

export interface Quote {
  lines: PricedLine[];
  currency: string;
  breakdown: PriceBreakdown;
  couponCode: string | null;
  flashSale: boolean;
  /** Flash-sale SKUs: when the sale opens (the catalog's Sku.flashSaleStartsAt). */
  flashSaleStartsAt: Date | null;
}

/** Timestamps arrive as the driver's text: the coupon's window becomes Dates here (raw SQL once compared them as strings). */
const toCoupon = (r: Selectable<Db['coupon']>): Coupon => ({
  code: r.code,
  kind: r.kind,
  amountOff: r.amount_off,
  percentOff: r.percent_off,
  cap: r.cap,
  minSpend: r.min_spend,
  currency: r.currency,
  validFrom: new Date(r.valid_from),
  validTo: new Date(r.valid_to),
  perUserLimit: r.per_user_limit,
});

/** Uses of a coupon by a user that count against its limit (a canceled order gives it back). */
export async function couponUses(em: EntityManager, code: string, userId: string): Promise<number> {
  const row = await db(em)
    .selectFrom('coupon_use as cu')
    .innerJoin('orders as o', 'o.id', 'cu.order_id')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('cu.code', '=', code)
    .where('cu.user_id', '=', userId)
    .where('o.status', '<>', 'CANCELED')
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** How long an order process keeps the shipping rates (edited by SQL on `ordering.shipping_rate`; an edit applies within this). */
export const SHIPPING_RATES_TTL_MS = 5000;
let rates: { byDestination: Map<string, ShippingRate>; at: number } | undefined;
let loadingRates: Promise<Map<string, ShippingRate>> | undefined;

/** Every shipping rate, read at most once per SHIPPING_RATES_TTL_MS per process (the table holds one row per destination). */
export async function shippingRates(em: EntityManager): Promise<Map<string, ShippingRate>> {
  if (rates && Date.now() - rates.at < SHIPPING_RATES_TTL_MS) return rates.byDestination;
  loadingRates ??= (async () => {
    try {
      // On a pooled connection of its own, shared by concurrent callers whatever their transactions do.
      const rows = await db(em.fork()).selectFrom('shipping_rate').select(['destination', 'base_fee', 'per_item_fee', 'free_over']).execute();
      const byDestination = new Map(
        rows.map((r) => [r.destination, { destination: r.destination, baseFee: r.base_fee, perItemFee: r.per_item_fee, freeOver: r.free_over }]),
      );
      rates = { byDestination, at: Date.now() };
      return byDestination;
    } finally {
      loadingRates = undefined;
    }
  })();
  return loadingRates;
}

/** The destination's own rate, else the default '*' (from `rates` when the caller read them already). */
async function shippingRate(em: EntityManager, country: string | null, rates?: Map<string, ShippingRate>): Promise<ShippingRate> {
  const all = rates ?? (await shippingRates(em));
  const rate = (country !== null ? all.get(country) : undefined) ?? all.get('*');
  if (!rate) throw new Error("no shipping rate for '*'");
  return rate;
}

/**
 * How long an order process reuses a SKU's facts from the price copy (prices.ts) for previews.
 * placeOrder always reads the copy, so a price changed meanwhile is still caught there
 * (PREVIEW_EXPIRED, seed §17 example 7); a popular SKU's previews cost the database one read per
 * process per this time.
 */
export const PREVIEW_PRICES_TTL_MS = 2000;
const recentFacts = new Map<string, { facts: SkuFacts; at: number }>();

async function skuFacts(
  em: EntityManager,
  ids: readonly string[],
  correlationId: string,
  recent: boolean,
  copied?: Map<string, SkuFacts>,
): Promise<Map<string, SkuFacts>> {
  if (!recent) return copiedSkuFacts(em, ids, correlationId, copied);
  const now = Date.now();
  const found = new Map<string, SkuFacts>();
  const missing: string[] = [];
  for (const id of ids) {
    const hit = recentFacts.get(id);
    if (hit && now - hit.at < PREVIEW_PRICES_TTL_MS) found.set(id, hit.facts);
    else missing.push(id);
  }
  if (missing.length === 0) return found;
  const fetched = await copiedSkuFacts(em, missing, correlationId);
  if (recentFacts.size > 10_000) recentFacts.clear();
  for (const [id, facts] of fetched) {
    recentFacts.set(id, { facts, at: now });
    found.set(id, facts);
  }
  return found;
}

/**
 * Prices order lines from the catalog's prices (as the price copy holds them), the coupon's rules
 * and the shipping rate of the destination. Used by previewOrder (`recentPrices`: facts up to
 * PREVIEW_PRICES_TTL_MS old), and again by placeOrder, in its transaction, with the copy's current
 * prices to detect a change.
 */
export async function quote(
  em: EntityManager,
  userId: string,
  lines: readonly { skuId: string; qty: number }[],
  couponCode: string | null,
  country: string | null,
  correlationId: string,
  {
    now = new Date(),
    recentPrices = false,
    rates,
    copied,
  }: {
    now?: Date;
    recentPrices?: boolean;
    /** The shipping rates, read before a transaction (shippingRates reads them on a connection of its own). */
    rates?: Map<string, ShippingRate>;
    /** The price copy's facts of these SKUs, read by the caller in a statement of its own (placement.ts). */
    copied?: Map<string, SkuFacts>;
  } = {},
): Promise<Quote> {
  const facts = await skuFacts(
    em,
    lines.map((l) => l.skuId),
    correlationId,
    recentPrices,
    copied,
  );
  const priced: PricedLine[] = lines.map((line) => {
    const sku = facts.get(line.skuId);
    if (!sku) throw badInput(`SKU ${line.skuId} does not exist`, { field: 'items', skuId: line.skuId });
    return { skuId: line.skuId, qty: line.qty, unitPrice: sku.price.amount };
  });
  const currencies = new Set(lines.map((l) => facts.get(l.skuId)!.price.currency));
  if (currencies.size > 1) throw badInput(`an order is paid in one currency; these SKUs are priced in ${[...currencies].join(' and ')}`, { field: 'items' });
  const currency = [...currencies][0]!;
  const flashSale = lines.some((l) => facts.get(l.skuId)!.flashSale);
  const starts = lines.map((l) => facts.get(l.skuId)!.flashSaleStartsAt).filter((s): s is string => s !== null);
  const flashSaleStartsAt = starts.length ? new Date(Math.max(...starts.map((s) => new Date(s).getTime()))) : null;

  let coupon: Coupon | null = null;
  if (couponCode) {
    const row = await db(em).selectFrom('coupon').selectAll().where('code', '=', couponCode).executeTakeFirst();
    if (!row) throw badInput(`coupon ${couponCode} does not exist`, { field: 'couponCode', reason: 'UNKNOWN' });
    coupon = toCoupon(row);
    const total = priced.reduce((n, l) => n + l.unitPrice * l.qty, 0);
    const problem = couponProblem(coupon, total, currency, now, await couponUses(em, couponCode, userId));
    if (problem) {
      const { message, ...facts } = problem;
      throw badInput(message, { field: 'couponCode', ...facts });
    }
  }
  const rate = await shippingRate(em, country, rates);
  return { lines: priced, currency, breakdown: priceOrder(priced, coupon, rate), couponCode: coupon?.code ?? null, flashSale, flashSaleStartsAt };
}

/**
 * How long an order process reuses a SKU's available stock for previews' stockCheck (informational:
 * placeOrder reserves for real, under inventory's conditional update, so this never oversells). The
 * answers of this process's own reservations keep it closer (noteReservation); a popular SKU's
 * previews cost inventory one read per process per this time instead of one each.
 */
export const STOCK_CHECK_TTL_MS = 1000;
const recentStock = new Map<string, { available: number; at: number }>();
const loadingStock = new Map<string, Promise<number>>();

/** Reads the available stock of these SKUs from inventory (one batched call), shared by concurrent previews. */
function availableStock(ids: readonly string[], correlationId: string): Promise<Map<string, number>> {
  const now = Date.now();
  const found = new Map<string, number | Promise<number>>();
  const missing: string[] = [];
  for (const id of new Set(ids)) {
    const hit = recentStock.get(id);
    if (hit && now - hit.at < STOCK_CHECK_TTL_MS) found.set(id, hit.available);
    else if (loadingStock.has(id)) found.set(id, loadingStock.get(id)!);
    else missing.push(id);
  }
  if (missing.length > 0) {
    const read = fetchEntities<{ available: number }>('order', 'inventory', 'Sku', missing, 'available', correlationId).finally(() => {
      for (const id of missing) loadingStock.delete(id);
    });
    for (const id of missing) {
      const one = read.then((stock) => {
        const available = stock.get(id)?.available ?? 0;
        if (recentStock.size > 10_000) recentStock.clear();
        recentStock.set(id, { available, at: Date.now() });
        return available;
      });
      loadingStock.set(id, one);
      found.set(id, one);
    }
  }
  return Promise.all([...found].map(async ([id, n]) => [id, await n] as const)).then((pairs) => new Map(pairs));
}

/** What a reservation of this process learned about stock: held units are gone, a rejection tells what is left. */
export function noteReservation(answer: { held?: { skuId: string; qty: number }[]; shortages?: { skuId: string; available: number }[] }): void {
  for (const h of answer.held ?? []) {
    const hit = recentStock.get(h.skuId);
    if (hit) hit.available = Math.max(0, hit.available - h.qty);
  }
  for (const s of answer.shortages ?? []) recentStock.set(s.skuId, { available: s.available, at: Date.now() });
}

/** Whether every line can be reserved now, from inventory's available stock at most STOCK_CHECK_TTL_MS old. */
export async function stockCheck(lines: readonly { skuId: string; qty: number }[], correlationId: string): Promise<'PASS' | 'INSUFFICIENT'> {
  const stock = await availableStock(
    lines.map((l) => l.skuId),
    correlationId,
  );
  return lines.every((l) => (stock.get(l.skuId) ?? 0) >= l.qty) ? 'PASS' : 'INSUFFICIENT';
}

export const previewTtlSeconds = (): number => envInt('PREVIEW_TTL_SECONDS', 600);
export const paymentTtlSeconds = (): number => envInt('ORDER_PAYMENT_TTL_SECONDS', 900);
