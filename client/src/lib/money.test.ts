import { describe, expect, it } from 'vitest';
import { formatMoney } from './money';

describe('formatMoney', () => {
  it('formats integer minor units without float arithmetic', () => {
    expect(formatMoney({ amount: 37700, currency: 'CNY' })).toBe('¥377.00');
    expect(formatMoney({ amount: 5, currency: 'CNY' })).toBe('¥0.05');
    expect(formatMoney({ amount: 0, currency: 'CNY' })).toBe('¥0.00');
    expect(formatMoney({ amount: -500, currency: 'CNY' })).toBe('-¥5.00');
    expect(formatMoney({ amount: 1999, currency: 'USD' })).toBe('$19.99');
    expect(formatMoney({ amount: 1200, currency: 'JPY' })).toBe('¥1,200');
  });
});
