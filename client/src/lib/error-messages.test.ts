import { describe, expect, it } from 'vitest';
import { couponMessage, errorCode, isRetryable, messageForError, messageForFailure } from './error-messages';
import { translator } from '../i18n/translate';
import { formatMoney } from './money';

const err = (code: string, message = 'raw message', extra: Record<string, unknown> = {}) => ({ message, extensions: { code, ...extra } });

describe('messageForError', () => {
  it('names the SKUs that ran short, with what is left', () => {
    const titles = (id: string) => ({ sku_a: 'Oolong 250 g', sku_b: 'Keyboard, red' })[id];
    const text = messageForError(
      err('STOCK_NOT_ENOUGH', 'Not enough stock', {
        shortages: [
          { skuId: 'sku_a', requested: 5, available: 2 },
          { skuId: 'sku_b', requested: 1, available: 0 },
        ],
      }),
      titles,
    );
    expect(text).toBe('Sorry, not enough stock left for Oolong 250 g (only 2 left) and Keyboard, red (sold out).');
  });

  it('still says something useful about stock without details', () => {
    expect(messageForError(err('STOCK_NOT_ENOUGH'))).toBe('Sorry, not enough stock left for one of the items in your order.');
    expect(messageForError(err('STOCK_NOT_ENOUGH', 'x', { shortages: [{ skuId: 'sku_unknown' }] }))).toBe('Sorry, not enough stock left for an item.');
  });

  it('maps each contract code to a sentence, never the code itself', () => {
    expect(messageForError(err('PREVIEW_EXPIRED'))).toBe('Prices changed, please review your order again.');
    expect(messageForError(err('UNAUTHENTICATED'))).toBe('Please sign in.');
    for (const code of [
      'FORBIDDEN',
      'FLASH_SALE_THROTTLED',
      'RISK_REJECTED',
      'ORDER_STATE_INVALID',
      'ORDER_ALREADY_EXISTS',
      'INTERNAL_SERVER_ERROR',
      'SOMETHING_NEW',
    ]) {
      const text = messageForError(err(code, `raw ${code}`));
      expect(text).not.toContain(code);
      expect(text).toMatch(/^[A-Z].*[.!?]$/);
    }
  });

  it('shows the message of BAD_USER_INPUT as a sentence', () => {
    expect(messageForError(err('BAD_USER_INPUT', 'coupon NOPE does not exist'))).toBe('Coupon NOPE does not exist.');
    expect(messageForError(err('BAD_USER_INPUT', 'qty must be at most 99.'))).toBe('Qty must be at most 99.');
  });

  it('never shows an internal message', () => {
    expect(messageForError(err('INTERNAL_SERVER_ERROR', 'relation "order" does not exist'))).toBe('Sorry, something went wrong on our side. Please try again.');
    expect(messageForError({ message: 'TypeError: x is undefined' })).toBe('Sorry, something went wrong on our side. Please try again.');
  });
});

describe('messageForFailure', () => {
  it('prefers the first GraphQL error', () => {
    expect(messageForFailure({ graphQLErrors: [err('PREVIEW_EXPIRED'), err('FORBIDDEN')], networkError: new Error('x') })).toBe(
      'Prices changed, please review your order again.',
    );
  });

  it('explains network failures and a 401 without errors', () => {
    expect(messageForFailure({ graphQLErrors: [], networkError: new TypeError('Failed to fetch') })).toBe(
      'We cannot reach the shop right now. Please check your connection and try again.',
    );
    expect(messageForFailure({ status: 401, networkError: new Error('401') })).toBe('Please sign in.');
  });

  it('gives the code for decisions', () => {
    expect(errorCode({ graphQLErrors: [err('PREVIEW_EXPIRED')] })).toBe('PREVIEW_EXPIRED');
    expect(errorCode({ networkError: new Error('x') })).toBeUndefined();
    expect(errorCode(undefined)).toBeUndefined();
  });
});

describe('in Chinese, and coupons by reason', () => {
  const zh = { t: translator('zh'), money: (v: { amount: number; currency: string }) => formatMoney(v, 'zh-CN'), date: (iso: string) => iso.slice(0, 10) };

  it('words the contract codes and stock shortages in Chinese', () => {
    expect(messageForError(err('PREVIEW_EXPIRED'), undefined, zh)).toBe('价格已变动，请重新确认订单。');
    const text = messageForError(
      err('STOCK_NOT_ENOUGH', 'x', {
        shortages: [
          { skuId: 'a', available: 0 },
          { skuId: 'b', available: 2 },
        ],
      }),
      (id) => id.toUpperCase(),
      zh,
    );
    expect(text).toBe('抱歉，A（已售罄）和B（仅剩 2 件）库存不足。');
    expect(messageForFailure({ networkError: new TypeError('Failed to fetch') }, undefined, zh)).toBe('暂时无法连接商城，请检查网络后重试。');
  });

  it('explains a refused coupon from its reason, not the server text', () => {
    const limit = err('BAD_USER_INPUT', 'coupon WELCOME10 can be used once per customer and you have used it already', {
      field: 'couponCode',
      reason: 'LIMIT_REACHED',
      limit: 1,
    });
    expect(couponMessage(limit, 'WELCOME10')).toBe('You have already used coupon WELCOME10: it can be used once per customer.');
    expect(couponMessage(limit, 'WELCOME10', zh)).toBe('您已使用过优惠券 WELCOME10：每位顾客限用 1 次。');
    const min = err('BAD_USER_INPUT', 'x', { field: 'couponCode', reason: 'MIN_SPEND', minSpend: { amount: 30000, currency: 'CNY' } });
    expect(couponMessage(min, 'SPEND300')).toBe('Coupon SPEND300 needs items worth at least ¥300.00.');
    expect(couponMessage(err('BAD_USER_INPUT', 'qty must be at most 99', { field: 'items' }), 'X')).toBeUndefined();
  });

  it('knows which failures a retry may cure', () => {
    expect(isRetryable({ networkError: new TypeError('Failed to fetch') })).toBe(true);
    expect(isRetryable({ graphQLErrors: [err('SERVICE_UNAVAILABLE')] })).toBe(true);
    expect(isRetryable({ graphQLErrors: [err('BAD_USER_INPUT')] })).toBe(false);
    expect(isRetryable({ status: 401, networkError: new Error('401') })).toBe(false);
  });
});
