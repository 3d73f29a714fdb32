import { describe, expect, it } from 'vitest';
import { hasCode, machineCases } from '@shop/kit/testing';
import { refundMachine } from './refund-state.js';

const isStateInvalid = hasCode('ORDER_STATE_INVALID');

describe('refund request transition table', () => {
  const allowed = [
    ['PENDING_APPROVAL', 'REQUESTED'],
    ['PENDING_APPROVAL', 'REJECTED'],
    ['REQUESTED', 'SUCCEEDED'],
    ['REQUESTED', 'FAILED'],
  ] as const;
  for (const c of machineCases(refundMachine, allowed, () => undefined, isStateInvalid)) it(c.title, c.run);

  it('ends in SUCCEEDED, FAILED or REJECTED', () => {
    expect(refundMachine.states.filter((s) => refundMachine.isTerminal(s))).toEqual(['SUCCEEDED', 'FAILED', 'REJECTED']);
  });
});
