import { describe, it } from 'vitest';
import { hasCode, machineCases } from '@shop/kit/testing';
import { refundMachine } from './refund-state.js';

describe('refund (at the provider) transition table', () => {
  const allowed = [
    ['REQUESTED', 'SUCCEEDED'],
    ['REQUESTED', 'FAILED'],
  ] as const;
  for (const c of machineCases(refundMachine, allowed, () => undefined, hasCode('ORDER_STATE_INVALID'))) it(c.title, c.run);
});
