import { describe, expect, it } from 'vitest';
import { OrderStatus } from '@shop/schema';
import { ORDER_TRANSITIONS, assertTransition, canTransition, isTerminal, orderMachine } from './order-state.js';

const allowed: [string, string][] = [
  ['CREATED', 'REVIEW'],
  ['CREATED', 'PENDING_PAYMENT'],
  ['CREATED', 'CANCELED'],
  ['REVIEW', 'PENDING_PAYMENT'],
  ['REVIEW', 'CANCELED'],
  ['PENDING_PAYMENT', 'PAID'],
  ['PENDING_PAYMENT', 'CANCELED'],
  ['PAID', 'SHIPPED'],
  ['PAID', 'REFUNDED'],
  ['SHIPPED', 'COMPLETED'],
  ['SHIPPED', 'REFUNDED'],
  ['COMPLETED', 'REFUNDED'],
];

describe('order transition table', () => {
  it('covers every status', () => {
    expect(Object.keys(ORDER_TRANSITIONS).sort()).toEqual([...OrderStatus].sort());
  });

  for (const from of OrderStatus) {
    for (const to of OrderStatus) {
      const ok = allowed.some(([f, t]) => f === from && t === to);
      it(`${from} → ${to} is ${ok ? 'allowed' : 'refused with ORDER_STATE_INVALID'}`, () => {
        expect(canTransition(from, to)).toBe(ok);
        if (ok) expect(() => assertTransition(from, to)).not.toThrow();
        else
          expect(() => assertTransition(from, to)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'ORDER_STATE_INVALID' }) }));
      });
    }
  }

  it('has exactly two terminal statuses (a delivered order can still be refunded)', () => {
    expect(OrderStatus.filter(isTerminal).sort()).toEqual(['CANCELED', 'REFUNDED']);
  });
});

describe('order machine guards', () => {
  it('a cancel needs a reason, and only a cancel has one', () => {
    const refused = expect.objectContaining({ extensions: expect.objectContaining({ code: 'ORDER_STATE_INVALID' }) });
    expect(() => orderMachine.check('CREATED', 'CANCELED', { reason: null })).toThrow(refused);
    expect(() => orderMachine.check('CREATED', 'PENDING_PAYMENT', { reason: 'USER_CANCELED' })).toThrow(refused);
    expect(() => orderMachine.check('CREATED', 'CANCELED', { reason: 'OUT_OF_STOCK' })).not.toThrow();
  });
});
