import { describe, expect, it } from 'vitest';
import { MESSAGES } from './messages';
import { pickLocale, translator } from './translate';

describe('i18n', () => {
  it('picks Chinese or English from the browser languages, English otherwise', () => {
    expect(pickLocale(['zh-CN', 'en'])).toBe('zh');
    expect(pickLocale(['zh-Hant-TW'])).toBe('zh');
    expect(pickLocale(['fr-FR', 'en-GB', 'zh'])).toBe('en');
    expect(pickLocale(['de-DE'])).toBe('en');
    expect(pickLocale([])).toBe('en');
  });

  it('fills parameters and leaves unknown ones visible', () => {
    expect(translator('en')('cart.subtotal', { amount: '¥1.00' })).toBe('Subtotal: ¥1.00');
    expect(translator('zh')('catalog.count', { count: 3 })).toBe('共 3 件商品');
    expect(translator('en')('catalog.noMatch')).toBe('No products match “{search}”.');
  });

  it('has every sentence in both languages, with the same parameters', () => {
    const params = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, english] of Object.entries(MESSAGES.en)) {
      const chinese = MESSAGES.zh[key as keyof typeof MESSAGES.en];
      expect(chinese, key).toBeTruthy();
      expect(params(chinese), key).toEqual(params(english));
    }
  });
});
