/**
 * Risk rules as data (seed §13: account, IP and device fingerprint checks against order brushing;
 * §17 example 10: an unusual device is stopped). This file is pure: rule parameters are validated
 * here and rules are evaluated against observations that facts.ts gathers with SQL.
 */

export const RULE_KINDS = ['ORDERS_PER_USER', 'ORDERS_PER_IP', 'ORDERS_PER_DEVICE', 'PAYABLE_ABOVE', 'BLOCKLIST'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export const RISK_ACTIONS = ['REJECT', 'REVIEW'] as const;
export type RiskAction = (typeof RISK_ACTIONS)[number];
export type RiskVerdict = 'ALLOW' | RiskAction;
export const BLOCK_KINDS = ['USER', 'DEVICE', 'IP'] as const;
export type BlockKind = (typeof BLOCK_KINDS)[number];

/** Whose orders a velocity rule counts. */
export type Dimension = 'user' | 'ip' | 'device';

/** At most `max` orders by one subject in the last `windowSeconds`: the order that would exceed it hits. */
export interface VelocityParams {
  max: number;
  windowSeconds: number;
}
/** payable > amount (minor units), in `currency` only when one is given. */
export interface PayableParams {
  amount: number;
  currency?: string;
}

interface RuleBase {
  id: string;
  action: RiskAction;
  enabled: boolean;
}
export type RiskRule =
  | (RuleBase & { kind: 'ORDERS_PER_USER' | 'ORDERS_PER_IP' | 'ORDERS_PER_DEVICE'; params: VelocityParams })
  | (RuleBase & { kind: 'PAYABLE_ABOVE'; params: PayableParams })
  | (RuleBase & { kind: 'BLOCKLIST'; params: Record<string, never> });

export const DIMENSION_OF = { ORDERS_PER_USER: 'user', ORDERS_PER_IP: 'ip', ORDERS_PER_DEVICE: 'device' } as const satisfies Record<string, Dimension>;

/** Whether a rule counts the subject's orders in a window. */
export const isVelocity = (rule: RiskRule): rule is Extract<RiskRule, { params: VelocityParams }> => rule.kind in DIMENSION_OF;

/** What is known about one order attempt when the rules run. */
export interface RiskObservations {
  userId: string;
  deviceId: string | null;
  ip: string | null;
  payable: number;
  currency: string;
  /** Orders already placed by the subject per window: orders.user[600] = orders of this user in the last 600 s. */
  orders: Record<Dimension, Record<number, number>>;
  /** Blocklist entries matching this user, device or IP. */
  blocked: { kind: BlockKind; value: string; reason: string }[];
}

export interface RiskHit {
  ruleId: string;
  action: RiskAction;
  reason: string;
}

export interface RiskAssessment {
  /** REJECT if any REJECT rule hit, else REVIEW if any rule hit, else ALLOW. */
  action: RiskVerdict;
  ruleIds: string[];
  /** For the audit and the logs; never shown to the buyer. */
  reasons: string[];
  hits: RiskHit[];
}

const MAX_WINDOW_SECONDS = 31 * 24 * 3600;
const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Checks a rule's params for its kind; returns the typed params or a message that says what is wrong. */
export function parseRuleParams(kind: RuleKind, raw: unknown): { ok: true; params: RiskRule['params'] } | { ok: false; problem: string } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, problem: 'params must be a JSON object' };
  const p = raw as Record<string, unknown>;
  const allowed: Record<RuleKind, string[]> = {
    ORDERS_PER_USER: ['max', 'windowSeconds'],
    ORDERS_PER_IP: ['max', 'windowSeconds'],
    ORDERS_PER_DEVICE: ['max', 'windowSeconds'],
    PAYABLE_ABOVE: ['amount', 'currency'],
    BLOCKLIST: [],
  };
  const unknown = Object.keys(p).filter((k) => !allowed[kind].includes(k));
  if (unknown.length) return { ok: false, problem: `${kind} takes ${allowed[kind].join(', ') || 'no params'}; unknown: ${unknown.join(', ')}` };
  switch (kind) {
    case 'ORDERS_PER_USER':
    case 'ORDERS_PER_IP':
    case 'ORDERS_PER_DEVICE':
      if (!isInt(p.max, 1, 1_000_000)) return { ok: false, problem: 'max must be a whole number from 1 to 1000000' };
      if (!isInt(p.windowSeconds, 1, MAX_WINDOW_SECONDS)) return { ok: false, problem: `windowSeconds must be a whole number from 1 to ${MAX_WINDOW_SECONDS}` };
      return { ok: true, params: { max: p.max, windowSeconds: p.windowSeconds } };
    case 'PAYABLE_ABOVE':
      if (!isInt(p.amount, 0, Number.MAX_SAFE_INTEGER)) return { ok: false, problem: 'amount must be a whole number of minor units, 0 or more' };
      if (p.currency !== undefined && (typeof p.currency !== 'string' || !/^[A-Z]{3}$/.test(p.currency)))
        return { ok: false, problem: 'currency must be a 3-letter ISO code' };
      return { ok: true, params: p.currency === undefined ? { amount: p.amount } : { amount: p.amount, currency: p.currency } };
    case 'BLOCKLIST':
      return { ok: true, params: {} };
  }
}

export const isRuleKind = (v: string): v is RuleKind => (RULE_KINDS as readonly string[]).includes(v);
export const isRiskAction = (v: string): v is RiskAction => (RISK_ACTIONS as readonly string[]).includes(v);

/** The windowed counts the enabled rules need, so facts.ts counts nothing more. */
export function windowsNeeded(rules: readonly RiskRule[]): { dimension: Dimension; windowSeconds: number }[] {
  const seen = new Map<string, { dimension: Dimension; windowSeconds: number }>();
  for (const rule of rules) {
    if (!rule.enabled || !isVelocity(rule)) continue;
    const dimension = DIMENSION_OF[rule.kind];
    const { windowSeconds } = rule.params;
    seen.set(`${dimension}:${windowSeconds}`, { dimension, windowSeconds });
  }
  return [...seen.values()];
}

export const needsBlocklist = (rules: readonly RiskRule[]): boolean => rules.some((r) => r.enabled && r.kind === 'BLOCKLIST');

const SUBJECT: Record<Dimension, string> = { user: 'this user', ip: 'this IP address', device: 'this device' };

function hitOf(rule: RiskRule, o: RiskObservations): string | undefined {
  switch (rule.kind) {
    case 'ORDERS_PER_USER':
    case 'ORDERS_PER_IP':
    case 'ORDERS_PER_DEVICE': {
      const dimension = DIMENSION_OF[rule.kind];
      const subject = dimension === 'user' ? o.userId : dimension === 'ip' ? o.ip : o.deviceId;
      if (!subject) return undefined; // unknown IP or device: the rule has nothing to count
      const placed = o.orders[dimension][rule.params.windowSeconds] ?? 0;
      if (placed < rule.params.max) return undefined;
      return `${placed} orders from ${SUBJECT[dimension]} in the last ${rule.params.windowSeconds} s (at most ${rule.params.max})`;
    }
    case 'PAYABLE_ABOVE': {
      const { amount, currency } = rule.params;
      if (currency !== undefined && currency !== o.currency) return undefined;
      return o.payable > amount ? `payable ${o.payable} ${o.currency} is above ${amount}` : undefined;
    }
    case 'BLOCKLIST':
      return o.blocked.length ? o.blocked.map((b) => `${b.kind} ${b.value} is blocked: ${b.reason}`).join('; ') : undefined;
  }
}

/** Runs every enabled rule; the strictest action of the rules that hit decides. */
export function evaluateRules(rules: readonly RiskRule[], observations: RiskObservations): RiskAssessment {
  const hits: RiskHit[] = [];
  for (const rule of rules) {
    if (!rule.enabled) continue;
    const reason = hitOf(rule, observations);
    if (reason !== undefined) hits.push({ ruleId: rule.id, action: rule.action, reason });
  }
  const action: RiskVerdict = hits.some((h) => h.action === 'REJECT') ? 'REJECT' : hits.length ? 'REVIEW' : 'ALLOW';
  return { action, ruleIds: hits.map((h) => h.ruleId), reasons: hits.map((h) => h.reason), hits };
}
