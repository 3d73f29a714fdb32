import { badInput, newId, parseId, type EntityManager } from '@shop/kit';
import { findOwnAddress } from './addresses.js';
import { admitPreview, giveBackAdmission } from './flash-sale.js';
import { normaliseLines } from './pricing.js';
import { previewTtlSeconds, quote, stockCheck } from './quote.js';
import { signPreview } from './preview-token.js';

export interface PreviewInput {
  items: { skuId: string; qty: number }[];
  couponCode?: string | null;
  addressId?: string | null;
}

export interface PreviewResult {
  previewId: string;
  currency: string;
  total: number;
  discount: number;
  shippingFee: number;
  payable: number;
  stockCheck: 'PASS' | 'INSUFFICIENT';
  expiresAt: Date;
  /** Flash-sale SKUs: the buyer's place among those admitted (flash-sale.ts). */
  queuePosition: number | null;
}

/**
 * Prices an order and answers it signed (preview-token.ts): the client holds the prices but cannot
 * alter them, and nothing is written. placeOrder verifies the token, re-prices and refuses when
 * anything changed.
 */
export async function previewOrder(em: EntityManager, userId: string, input: PreviewInput, correlationId: string): Promise<PreviewResult> {
  const lines = normaliseLines(input.items.map((l, i) => ({ skuId: parseId('sku', l.skuId, `items[${i}].skuId`), qty: l.qty })));
  const admission = { answered: false };
  try {
    return await previewLines(em, userId, input, lines, correlationId, admission);
  } catch (error) {
    if (!admission.answered) await giveBackAdmission(userId, lines);
    throw error;
  }
}

async function previewLines(
  em: EntityManager,
  userId: string,
  input: PreviewInput,
  lines: { skuId: string; qty: number }[],
  correlationId: string,
  admission: { answered: boolean },
): Promise<PreviewResult> {
  const couponCode = input.couponCode?.trim() ? input.couponCode.trim().toUpperCase() : null;
  if (couponCode && !/^[A-Z0-9_-]{1,40}$/.test(couponCode)) throw badInput('couponCode is not a valid coupon code', { field: 'couponCode' });
  let country: string | null = null;
  let addressId: string | null = null;
  if (input.addressId) {
    addressId = parseId('adr', input.addressId, 'addressId');
    const address = await findOwnAddress(em, userId, addressId);
    if (!address) throw badInput(`address ${addressId} is not one of yours`, { field: 'addressId' });
    country = address.country;
  }
  // Prices come from this process's recent copy of the catalog's facts when it has one (quote.ts).
  const q = await quote(em, userId, lines, couponCode, country, correlationId, { recentPrices: true });
  // A flash-sale SKU admits the buyer here (one unit, shared admission): admitted means stock is left to promise.
  let queuePosition: number | null = null;
  if (q.flashSale) {
    try {
      queuePosition = await admitPreview(userId, lines, q.flashSaleStartsAt);
    } catch (error) {
      admission.answered = true; // a refusal is the admission's own answer: nothing to give back
      throw error;
    }
  }
  const stock = q.flashSale ? 'PASS' : await stockCheck(lines, correlationId);
  const expiresAt = new Date(Date.now() + previewTtlSeconds() * 1000);
  const b = q.breakdown;
  const previewId = signPreview({
    id: newId('pvw'),
    userId,
    lines: q.lines,
    couponCode: q.couponCode,
    addressId,
    country,
    currency: q.currency,
    total: b.total,
    discount: b.discount,
    shippingFee: b.shippingFee,
    payable: b.payable,
    flashSale: q.flashSale,
    expiresAt: expiresAt.getTime(),
  });
  return { previewId, currency: q.currency, ...b, stockCheck: stock, expiresAt, queuePosition };
}
