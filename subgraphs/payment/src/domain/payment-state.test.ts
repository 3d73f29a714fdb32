import { describe, expect, it } from 'vitest';
import { hasCode, machineCases } from '@shop/kit/testing';
import { paymentMachine } from './payment-state.js';

const isStateInvalid = hasCode('ORDER_STATE_INVALID');

describe('payment transition table', () => {
  const allowed = [
    ['PENDING', 'SUCCEEDED'],
    ['PENDING', 'FAILED'],
    ['SUCCEEDED', 'REFUNDED'],
  ] as const;
  for (const c of machineCases(paymentMachine, allowed, () => undefined, isStateInvalid)) it(c.title, c.run);

  it('ends in FAILED or REFUNDED', () => {
    expect(paymentMachine.states.filter((s) => paymentMachine.isTerminal(s))).toEqual(['FAILED', 'REFUNDED']);
  });
});
