import { describe, expect, it } from 'vitest';
import { hasCode, machineCases } from '@shop/kit/testing';
import { shipmentMachine } from './shipment-state.js';

const isStateInvalid = hasCode('ORDER_STATE_INVALID');

describe('shipment transition table', () => {
  const allowed = [
    ['PENDING', 'PACKED'],
    ['PENDING', 'CANCELED'],
    ['PACKED', 'SHIPPED'],
    ['PACKED', 'CANCELED'],
    ['SHIPPED', 'DELIVERED'],
  ] as const;
  for (const c of machineCases(shipmentMachine, allowed, () => undefined, isStateInvalid)) it(c.title, c.run);

  it('a refusal names the status and the moves it allows', () => {
    expect(() => shipmentMachine.check('PENDING', 'SHIPPED', undefined)).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ status: 'PENDING', allowed: ['PACKED', 'CANCELED'] }) }),
    );
  });
});
