import { describe, expect, it } from 'vitest';
import { couponDiscount, couponProblem, normaliseLines, priceOrder, shippingFee, type Coupon, type ShippingRate } from './pricing.js';

const coupon = (over: Partial<Coupon>): Coupon => ({
  code: 'C',
  kind: 'FIXED',
  amountOff: 0,
  percentOff: 0,
  cap: 0,
  minSpend: 0,
  currency: 'CNY',
  validFrom: new Date('2026-01-01T00:00:00Z'),
  validTo: new Date('2027-01-01T00:00:00Z'),
  perUserLimit: 0,
  ...over,
});
const rate: ShippingRate = { destination: 'CN', baseFee: 800, perItemFee: 200, freeOver: 9900 };
const now = new Date('2026-11-24T10:00:00Z');

describe('coupons', () => {
  it('takes a fixed amount off, never more than the total', () => {
    expect(couponDiscount(coupon({ amountOff: 2000 }), 39900)).toBe(2000);
    expect(couponDiscount(coupon({ amountOff: 2000 }), 1500)).toBe(1500);
  });

  it('takes a percentage, rounded down to the minor unit, capped', () => {
    expect(couponDiscount(coupon({ kind: 'PERCENT', percentOff: 10 }), 39999)).toBe(3999);
    expect(couponDiscount(coupon({ kind: 'PERCENT', percentOff: 10, cap: 3000 }), 39999)).toBe(3000);
  });

  it('applies "spend X save Y" only from X on', () => {
    const c = coupon({ kind: 'THRESHOLD', minSpend: 30000, amountOff: 5000 });
    expect(couponProblem(c, 29999, 'CNY', now, 0)?.message).toMatch(/at least 30000/);
    expect(couponProblem(c, 30000, 'CNY', now, 0)).toBeNull();
    expect(couponDiscount(c, 30000)).toBe(5000);
  });

  it('refuses outside its validity window, in another currency, and past the per-user limit', () => {
    expect(couponProblem(coupon({ validTo: new Date('2026-11-01T00:00:00Z') }), 100, 'CNY', now, 0)?.message).toMatch(/expired/);
    expect(couponProblem(coupon({ validFrom: new Date('2026-12-01T00:00:00Z') }), 100, 'CNY', now, 0)?.message).toMatch(/not valid before/);
    expect(couponProblem(coupon({}), 100, 'USD', now, 0)?.message).toMatch(/CNY orders/);
    expect(couponProblem(coupon({ perUserLimit: 1 }), 100, 'CNY', now, 1)).toMatchObject({
      reason: 'LIMIT_REACHED',
      message: expect.stringMatching(/once per customer/),
    });
    expect(couponProblem(coupon({ perUserLimit: 2 }), 100, 'CNY', now, 1)).toBeNull();
  });
});

describe('shipping and totals', () => {
  it('charges a base fee plus a fee per extra item, free above the threshold', () => {
    expect(shippingFee(rate, 1, 5000)).toBe(800);
    expect(shippingFee(rate, 3, 5000)).toBe(1200);
    expect(shippingFee(rate, 3, 9900)).toBe(0);
    expect(shippingFee(rate, 0, 0)).toBe(0);
  });

  it('prices 2 × 199.50 with 20.00 off and 8.00 shipping as 387.00 payable', () => {
    const noFree = { ...rate, perItemFee: 0, freeOver: 0 };
    expect(priceOrder([{ skuId: 's', qty: 2, unitPrice: 19950 }], coupon({ amountOff: 2000 }), noFree)).toEqual({
      total: 39900,
      discount: 2000,
      shippingFee: 800,
      payable: 38700,
    });
  });

  it('decides free shipping on the discounted total', () => {
    const breakdown = priceOrder([{ skuId: 's', qty: 1, unitPrice: 10000 }], coupon({ amountOff: 200 }), rate);
    expect(breakdown).toEqual({ total: 10000, discount: 200, shippingFee: 800, payable: 10600 });
  });
});

describe('line validation', () => {
  it('merges duplicate SKUs and refuses zero, negative and absurd quantities', () => {
    expect(
      normaliseLines([
        { skuId: 'a', qty: 1 },
        { skuId: 'a', qty: 2 },
      ]),
    ).toEqual([{ skuId: 'a', qty: 3 }]);
    for (const qty of [0, -1, 100, 1.5]) {
      expect(() => normaliseLines([{ skuId: 'a', qty }])).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }));
    }
    expect(() =>
      normaliseLines([
        { skuId: 'a', qty: 60 },
        { skuId: 'a', qty: 60 },
      ]),
    ).toThrow(/at most 99/);
    expect(() => normaliseLines([])).toThrow(/at least one line/);
  });
});
