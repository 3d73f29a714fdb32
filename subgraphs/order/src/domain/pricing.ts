import { badInput } from '@shop/kit';

/** Order pricing in integer minor units: lines, coupons and shipping. No floats anywhere. */
export interface PricedLine {
  skuId: string;
  qty: number;
  unitPrice: number;
}

export type CouponKind = 'FIXED' | 'PERCENT' | 'THRESHOLD';
export interface Coupon {
  code: string;
  kind: CouponKind;
  /** FIXED and THRESHOLD: the amount off. */
  amountOff: number;
  /** PERCENT: 1..100. */
  percentOff: number;
  /** PERCENT: the most it takes off (0 = no cap). */
  cap: number;
  /** Minimum merchandise total for the coupon to apply (THRESHOLD: "spend X"). */
  minSpend: number;
  currency: string;
  validFrom: Date;
  validTo: Date;
  perUserLimit: number;
}

export interface ShippingRate {
  destination: string;
  baseFee: number;
  perItemFee: number;
  /** Free shipping when the discounted total reaches this (0 = never free). */
  freeOver: number;
}

export interface PriceBreakdown {
  total: number;
  discount: number;
  shippingFee: number;
  payable: number;
}

export const MAX_LINE_QTY = 99;
export const MAX_LINES = 50;

export function lineTotal(lines: readonly PricedLine[]): number {
  let total = 0;
  for (const line of lines) {
    if (!Number.isSafeInteger(line.unitPrice) || !Number.isSafeInteger(line.qty)) throw new Error('prices and quantities are integers');
    total += line.unitPrice * line.qty;
  }
  if (!Number.isSafeInteger(total) || total > 2_000_000_000) throw badInput('the order total is too large');
  return total;
}

/** Why a coupon does not apply: a sentence, and a reason code with its figures for clients to word it themselves. */
export interface CouponProblem {
  reason: 'WRONG_CURRENCY' | 'NOT_YET_VALID' | 'EXPIRED' | 'MIN_SPEND' | 'LIMIT_REACHED';
  message: string;
  [fact: string]: unknown;
}

/** Why a coupon does not apply, or null when it does. */
export function couponProblem(coupon: Coupon, total: number, currency: string, now: Date, usedByUser: number): CouponProblem | null {
  const code = coupon.code;
  if (coupon.currency !== currency) return { reason: 'WRONG_CURRENCY', message: `coupon ${code} is for ${coupon.currency} orders`, currency: coupon.currency };
  if (now < coupon.validFrom)
    return {
      reason: 'NOT_YET_VALID',
      message: `coupon ${code} is not valid before ${coupon.validFrom.toISOString()}`,
      validFrom: coupon.validFrom.toISOString(),
    };
  if (now > coupon.validTo)
    return { reason: 'EXPIRED', message: `coupon ${code} expired at ${coupon.validTo.toISOString()}`, validTo: coupon.validTo.toISOString() };
  if (total < coupon.minSpend)
    return {
      reason: 'MIN_SPEND',
      message: `coupon ${code} needs a total of at least ${coupon.minSpend}`,
      minSpend: { amount: coupon.minSpend, currency: coupon.currency },
    };
  if (coupon.perUserLimit > 0 && usedByUser >= coupon.perUserLimit) {
    const times = coupon.perUserLimit === 1 ? 'once' : `${coupon.perUserLimit} times`;
    return { reason: 'LIMIT_REACHED', message: `coupon ${code} can be used ${times} per customer and you have used it already`, limit: coupon.perUserLimit };
  }
  return null;
}

/** The discount a coupon gives on a merchandise total; never more than the total. */
export function couponDiscount(coupon: Coupon, total: number): number {
  let off: number;
  switch (coupon.kind) {
    case 'FIXED':
    case 'THRESHOLD':
      off = coupon.amountOff;
      break;
    case 'PERCENT':
      off = Math.floor((total * coupon.percentOff) / 100);
      if (coupon.cap > 0) off = Math.min(off, coupon.cap);
      break;
  }
  return Math.max(0, Math.min(off, total));
}

/** Shipping by destination and item count, free above the rate's threshold. */
export function shippingFee(rate: ShippingRate, itemCount: number, discountedTotal: number): number {
  if (itemCount === 0) return 0;
  if (rate.freeOver > 0 && discountedTotal >= rate.freeOver) return 0;
  return rate.baseFee + rate.perItemFee * Math.max(0, itemCount - 1);
}

export function priceOrder(lines: readonly PricedLine[], coupon: Coupon | null, rate: ShippingRate): PriceBreakdown {
  const total = lineTotal(lines);
  const discount = coupon ? couponDiscount(coupon, total) : 0;
  const count = lines.reduce((n, l) => n + l.qty, 0);
  const fee = shippingFee(rate, count, total - discount);
  return { total, discount, shippingFee: fee, payable: total - discount + fee };
}

/** Validates order lines where they enter: quantities, limits, duplicate SKUs merged. */
export function normaliseLines(lines: readonly { skuId: string; qty: number }[]): { skuId: string; qty: number }[] {
  if (lines.length === 0) throw badInput('an order needs at least one line', { field: 'items' });
  const merged = new Map<string, number>();
  for (const [i, line] of lines.entries()) {
    if (!Number.isInteger(line.qty) || line.qty < 1 || line.qty > MAX_LINE_QTY) {
      throw badInput(`items[${i}].qty must be between 1 and ${MAX_LINE_QTY}, got ${line.qty}`, { field: `items[${i}].qty` });
    }
    merged.set(line.skuId, (merged.get(line.skuId) ?? 0) + line.qty);
  }
  if (merged.size > MAX_LINES) throw badInput(`an order holds at most ${MAX_LINES} different SKUs`, { field: 'items' });
  for (const [skuId, qty] of merged) {
    if (qty > MAX_LINE_QTY) throw badInput(`at most ${MAX_LINE_QTY} of SKU ${skuId} per order`, { field: 'items' });
  }
  return [...merged].map(([skuId, qty]) => ({ skuId, qty }));
}
