import { describe, expect, it } from 'vitest';
import { PAYMENT_STATUSES } from './payment-state.js';
import { RECONCILIATION_MATRIX, type ProviderSide } from './reconciliation-matrix.js';

const PROVIDER: ProviderSide[] = ['PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED', 'NONE'];

describe('reconciliation matrix', () => {
  it('has a decision for every pair of states', () => {
    expect(Object.keys(RECONCILIATION_MATRIX).sort()).toEqual([...PAYMENT_STATUSES, 'NONE'].sort());
    for (const row of Object.values(RECONCILIATION_MATRIX)) expect(Object.keys(row).sort()).toEqual([...PROVIDER].sort());
  });

  it('repairs only a PENDING payment, and replays a success only where the provider still holds the money', () => {
    const repairs = Object.entries(RECONCILIATION_MATRIX).flatMap(([ours, row]) =>
      Object.entries(row)
        .filter(([, d]) => d.action.startsWith('REPLAY_'))
        .map(([provider, d]) => `${ours}×${provider}→${d.action}`),
    );
    expect(repairs.sort()).toEqual(['PENDING×FAILED→REPLAY_FAILED', 'PENDING×SUCCEEDED→REPLAY_SUCCEEDED']);
  });

  it('reports money that disagrees: captured on one side only, or refunded on one side only', () => {
    expect(RECONCILIATION_MATRIX.PENDING.REFUNDED).toEqual({ action: 'REPORT', kind: 'REFUNDED_BEFORE_RECORDED' });
    expect(RECONCILIATION_MATRIX.FAILED.SUCCEEDED).toEqual({ action: 'REPORT', kind: 'CAPTURED_BUT_FAILED_HERE' });
    expect(RECONCILIATION_MATRIX.SUCCEEDED.REFUNDED).toEqual({ action: 'REPORT', kind: 'REFUNDED_AT_PROVIDER_ONLY' });
    expect(RECONCILIATION_MATRIX.REFUNDED.SUCCEEDED).toEqual({ action: 'REPORT', kind: 'REFUND_MISSING_AT_PROVIDER' });
  });
});
