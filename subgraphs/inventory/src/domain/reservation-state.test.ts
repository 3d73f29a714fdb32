import { describe, expect, it } from 'vitest';
import { hasCode, machineCases } from '@shop/kit/testing';
import { reservationMachine } from './reservation-state.js';

const isStateInvalid = hasCode('ORDER_STATE_INVALID');

describe('reservation transition table', () => {
  const allowed = [
    ['HOLD', 'CONFIRMED'],
    ['HOLD', 'RELEASED'],
    ['CONFIRMED', 'RELEASED'],
  ] as const;
  for (const c of machineCases(reservationMachine, allowed, () => ({ restock: true }), isStateInvalid)) it(c.title, c.run);

  it('gives sold stock back only to restock a refund', () => {
    expect(() => reservationMachine.check('CONFIRMED', 'RELEASED', { restock: false })).toThrow(/restock/);
    expect(() => reservationMachine.check('HOLD', 'RELEASED', { restock: false })).not.toThrow();
  });
});
