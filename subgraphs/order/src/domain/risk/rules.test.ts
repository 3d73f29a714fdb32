import { describe, expect, it } from 'vitest';
import { evaluateRules, parseRuleParams, windowsNeeded, type RiskObservations, type RiskRule } from './rules.js';

const DEFAULTS: RiskRule[] = [
  { id: 'user-velocity', kind: 'ORDERS_PER_USER', params: { max: 5, windowSeconds: 600 }, action: 'REJECT', enabled: true },
  { id: 'ip-velocity', kind: 'ORDERS_PER_IP', params: { max: 20, windowSeconds: 600 }, action: 'REJECT', enabled: true },
  { id: 'device-velocity', kind: 'ORDERS_PER_DEVICE', params: { max: 10, windowSeconds: 600 }, action: 'REVIEW', enabled: true },
  { id: 'large-payable', kind: 'PAYABLE_ABOVE', params: { amount: 5_000_000 }, action: 'REVIEW', enabled: true },
  { id: 'blocklist', kind: 'BLOCKLIST', params: {}, action: 'REJECT', enabled: true },
];

/** An attempt by a user with `user`, `ip` and `device` orders already placed in the last 600 s. */
const counts = (user: number, ip: number, device: number, extra: Partial<RiskObservations> = {}): RiskObservations => ({
  userId: 'u1',
  deviceId: 'dev-1',
  ip: '203.0.113.7',
  payable: 1000,
  currency: 'CNY',
  blocked: [],
  ...extra,
  orders: { user: { 600: user }, ip: { 600: ip }, device: { 600: device } },
});

describe('risk rules', () => {
  it('allows an ordinary order', () => {
    expect(evaluateRules(DEFAULTS, counts(0, 0, 0))).toEqual({ action: 'ALLOW', ruleIds: [], reasons: [], hits: [] });
  });

  it('rejects the order that would exceed the per-user limit, not the one before it', () => {
    expect(evaluateRules(DEFAULTS, counts(4, 4, 4)).action).toBe('ALLOW');
    const at = evaluateRules(DEFAULTS, counts(5, 5, 5));
    expect(at.action).toBe('REJECT');
    expect(at.ruleIds).toEqual(['user-velocity']);
    expect(at.reasons[0]).toBe('5 orders from this user in the last 600 s (at most 5)');
  });

  it('rejects at the per-IP limit and reviews at the per-device limit', () => {
    expect(evaluateRules(DEFAULTS, counts(0, 19, 0)).action).toBe('ALLOW');
    expect(evaluateRules(DEFAULTS, counts(0, 20, 0))).toMatchObject({ action: 'REJECT', ruleIds: ['ip-velocity'] });
    expect(evaluateRules(DEFAULTS, counts(0, 0, 9)).action).toBe('ALLOW');
    expect(evaluateRules(DEFAULTS, counts(0, 0, 10))).toMatchObject({ action: 'REVIEW', ruleIds: ['device-velocity'] });
  });

  it('does not count an unknown IP or device', () => {
    expect(evaluateRules(DEFAULTS, counts(0, 50, 50, { ip: null, deviceId: null })).action).toBe('ALLOW');
  });

  it('reviews a payable strictly above the amount, in the rule currency only', () => {
    expect(evaluateRules(DEFAULTS, counts(0, 0, 0, { payable: 5_000_000 })).action).toBe('ALLOW');
    expect(evaluateRules(DEFAULTS, counts(0, 0, 0, { payable: 5_000_001 }))).toMatchObject({ action: 'REVIEW', ruleIds: ['large-payable'] });
    const usdOnly: RiskRule[] = [{ id: 'usd', kind: 'PAYABLE_ABOVE', params: { amount: 100, currency: 'USD' }, action: 'REJECT', enabled: true }];
    expect(evaluateRules(usdOnly, counts(0, 0, 0, { payable: 101, currency: 'CNY' })).action).toBe('ALLOW');
    expect(evaluateRules(usdOnly, counts(0, 0, 0, { payable: 101, currency: 'USD' })).action).toBe('REJECT');
  });

  it('rejects a blocked user, device or IP', () => {
    for (const kind of ['USER', 'DEVICE', 'IP'] as const) {
      const result = evaluateRules(DEFAULTS, counts(0, 0, 0, { blocked: [{ kind, value: 'x', reason: 'chargebacks' }] }));
      expect(result).toMatchObject({ action: 'REJECT', ruleIds: ['blocklist'], reasons: [`${kind} x is blocked: chargebacks`] });
    }
  });

  it('lets REJECT win over REVIEW and reports every rule that hit', () => {
    const result = evaluateRules(DEFAULTS, counts(5, 0, 10, { payable: 9_000_000 }));
    expect(result.action).toBe('REJECT');
    expect(result.ruleIds).toEqual(['user-velocity', 'device-velocity', 'large-payable']);
    expect(result.hits.map((h) => h.action)).toEqual(['REJECT', 'REVIEW', 'REVIEW']);
  });

  it('skips disabled rules, and follows a changed action', () => {
    const disabled = DEFAULTS.map((r) => ({ ...r, enabled: r.id !== 'user-velocity' })) as RiskRule[];
    expect(evaluateRules(disabled, counts(50, 0, 0)).action).toBe('ALLOW');
    const softened = DEFAULTS.map((r) => (r.id === 'user-velocity' ? { ...r, action: 'REVIEW' } : r)) as RiskRule[];
    expect(evaluateRules(softened, counts(5, 0, 0)).action).toBe('REVIEW');
  });

  it('counts only the windows of enabled rules, once each', () => {
    const rules: RiskRule[] = [
      ...DEFAULTS,
      { id: 'user-hourly', kind: 'ORDERS_PER_USER', params: { max: 20, windowSeconds: 3600 }, action: 'REJECT', enabled: true },
      { id: 'user-10m-again', kind: 'ORDERS_PER_USER', params: { max: 3, windowSeconds: 600 }, action: 'REVIEW', enabled: true },
      { id: 'off', kind: 'ORDERS_PER_IP', params: { max: 1, windowSeconds: 60 }, action: 'REJECT', enabled: false },
    ];
    expect(windowsNeeded(rules)).toEqual([
      { dimension: 'user', windowSeconds: 600 },
      { dimension: 'ip', windowSeconds: 600 },
      { dimension: 'device', windowSeconds: 600 },
      { dimension: 'user', windowSeconds: 3600 },
    ]);
  });

  it('validates params per kind', () => {
    expect(parseRuleParams('ORDERS_PER_USER', { max: 3, windowSeconds: 60 })).toEqual({ ok: true, params: { max: 3, windowSeconds: 60 } });
    expect(parseRuleParams('ORDERS_PER_USER', { max: 0, windowSeconds: 60 })).toMatchObject({ ok: false, problem: expect.stringContaining('max') });
    expect(parseRuleParams('ORDERS_PER_IP', { max: 3, windowSecs: 60 })).toMatchObject({ ok: false, problem: expect.stringContaining('unknown: windowSecs') });
    expect(parseRuleParams('ORDERS_PER_DEVICE', { max: 1.5, windowSeconds: 60 }).ok).toBe(false);
    expect(parseRuleParams('PAYABLE_ABOVE', { amount: 100, currency: 'usd' }).ok).toBe(false);
    expect(parseRuleParams('PAYABLE_ABOVE', { amount: -1 }).ok).toBe(false);
    expect(parseRuleParams('PAYABLE_ABOVE', { amount: 100 })).toEqual({ ok: true, params: { amount: 100 } });
    expect(parseRuleParams('BLOCKLIST', {})).toEqual({ ok: true, params: {} });
    expect(parseRuleParams('BLOCKLIST', [])).toMatchObject({ ok: false, problem: 'params must be a JSON object' });
  });
});
