import { describe, expect, it } from 'vitest';
import { assertSameCurrency, lineTotal, subtotal } from './domain/pricing.js';

const cny = (amount: number) => ({ amount, currency: 'CNY' });

describe('cart pricing', () => {
  it('multiplies and sums integer minor units', () => {
    expect(lineTotal({ unitPrice: cny(12800), qty: 3 })).toEqual(cny(38400));
    expect(
      subtotal(
        [
          { unitPrice: cny(12800), qty: 3 },
          { unitPrice: cny(1), qty: 99 },
          { unitPrice: cny(0), qty: 5 },
        ],
        'USD',
      ),
    ).toEqual(cny(38499));
  });

  it('prices an empty cart as 0 in the default currency', () => {
    expect(subtotal([], 'CNY')).toEqual(cny(0));
    expect(subtotal([], 'EUR')).toEqual({ amount: 0, currency: 'EUR' });
  });

  it('refuses mixed currencies with BAD_USER_INPUT', () => {
    expect(() =>
      subtotal(
        [
          { unitPrice: cny(100), qty: 1 },
          { unitPrice: { amount: 100, currency: 'USD' }, qty: 1 },
        ],
        'CNY',
      ),
    ).toThrowError(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }));
    expect(() => assertSameCurrency('CNY', 'USD')).toThrow(/CNY/);
    expect(() => assertSameCurrency(undefined, 'USD')).not.toThrow();
    expect(() => assertSameCurrency('USD', 'USD')).not.toThrow();
  });

  it('refuses fractions, negatives and totals beyond safe integers', () => {
    expect(() => lineTotal({ unitPrice: cny(10.5), qty: 1 })).toThrow(RangeError);
    expect(() => lineTotal({ unitPrice: cny(10), qty: 1.5 })).toThrow(RangeError);
    expect(() => lineTotal({ unitPrice: cny(-1), qty: 1 })).toThrow(RangeError);
    expect(() => lineTotal({ unitPrice: cny(Number.MAX_SAFE_INTEGER), qty: 2 })).toThrow(RangeError);
    expect(() =>
      subtotal(
        [
          { unitPrice: cny(Number.MAX_SAFE_INTEGER), qty: 1 },
          { unitPrice: cny(1), qty: 1 },
        ],
        'CNY',
      ),
    ).toThrow(RangeError);
  });
});
