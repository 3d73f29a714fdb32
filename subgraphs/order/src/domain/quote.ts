import { badInput, envInt, fetchEntities, fetchSkuFacts, type EntityManager, type Selectable } from '@shop/kit';
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

async function shippingRate(em: EntityManager, country: string | null): Promise<ShippingRate> {
  const row = await db(em)
    .selectFrom('shipping_rate')
    .select(['destination', 'base_fee', 'per_item_fee', 'free_over'])
    .where('destination', 'in', [country ?? '*', '*'])
    .orderBy((eb) => eb('destination', '=', '*'))
    .limit(1)
    .executeTakeFirst();
  if (!row) throw new Error("no shipping rate for '*'");
  return { destination: row.destination, baseFee: row.base_fee, perItemFee: row.per_item_fee, freeOver: row.free_over };
}

/**
 * Prices order lines from the catalog's current prices, the coupon's rules and the shipping rate
 * of the destination. Used by previewOrder, and again by placeOrder to detect a change.
 */
export async function quote(
  em: EntityManager,
  userId: string,
  lines: readonly { skuId: string; qty: number }[],
  couponCode: string | null,
  country: string | null,
  correlationId: string,
  now = new Date(),
): Promise<Quote> {
  const facts = await fetchSkuFacts(
    lines.map((l) => l.skuId),
    correlationId,
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
  const rate = await shippingRate(em, country);
  return { lines: priced, currency, breakdown: priceOrder(priced, coupon, rate), couponCode: coupon?.code ?? null, flashSale, flashSaleStartsAt };
}

/** Whether every line can be reserved now, from the inventory subgraph (informational: placeOrder reserves for real). */
export async function stockCheck(lines: readonly { skuId: string; qty: number }[], correlationId: string): Promise<'PASS' | 'INSUFFICIENT'> {
  const stock = await fetchEntities<{ available: number }>(
    'order',
    'inventory',
    'Sku',
    lines.map((l) => l.skuId),
    'available',
    correlationId,
  );
  return lines.every((l) => (stock.get(l.skuId)?.available ?? 0) >= l.qty) ? 'PASS' : 'INSUFFICIENT';
}

export const previewTtlSeconds = (): number => envInt('PREVIEW_TTL_SECONDS', 600);
export const paymentTtlSeconds = (): number => envInt('ORDER_PAYMENT_TTL_SECONDS', 900);
