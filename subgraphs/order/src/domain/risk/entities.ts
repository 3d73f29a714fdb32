import { defineEntity, p } from '@shop/kit';

export const RISK_RULE_KINDS = ['ORDERS_PER_USER', 'ORDERS_PER_IP', 'ORDERS_PER_DEVICE', 'PAYABLE_ABOVE', 'BLOCKLIST'] as const;
export const RISK_ACTIONS = ['REJECT', 'REVIEW'] as const;
export const BLOCKLIST_KINDS = ['USER', 'DEVICE', 'IP'] as const;

/** Risk rules are rows: edited by SQL or the admin mutations, never by code. */
export const RiskRuleEntity = defineEntity({
  name: 'RiskRule',
  tableName: 'risk_rule',
  properties: {
    id: p.text().primary(),
    kind: p.enum(RISK_RULE_KINDS),
    params: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    action: p.enum(RISK_ACTIONS),
    enabled: p.boolean().default(true),
    updatedBy: p.text().nullable(),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
});

export const RiskBlocklistEntity = defineEntity({
  name: 'RiskBlocklist',
  tableName: 'risk_blocklist',
  properties: {
    kind: p.enum(BLOCKLIST_KINDS).primary(),
    value: p.text().primary(),
    reason: p.text(),
    createdBy: p.text().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
});

/** The audit of every decision that was not a plain ALLOW. */
export const RiskDecisionEntity = defineEntity({
  name: 'RiskDecision',
  tableName: 'risk_decision',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    userId: p.text(),
    orderId: p.text().nullable(),
    ruleId: p.text(),
    action: p.enum(RISK_ACTIONS),
    facts: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [
    { name: 'risk_decision_user_idx', columns: [{ name: 'user_id' }, { name: 'created_at', sort: 'DESC' }] },
    { name: 'risk_decision_order_idx', properties: ['orderId'], where: 'order_id IS NOT NULL' },
  ],
});

export const riskEntities = [RiskRuleEntity, RiskBlocklistEntity, RiskDecisionEntity] as const;
