import { DomainError, ErrorCode, json, type EntityManager } from '@shop/kit';
import { db } from '../../persistence.js';
import { CLIENT_IP_HEADER, DEVICE_ID_HEADER } from '@shop/kit';
import { gatherObservations, type RiskSubject } from './facts.js';
import { currentRules, normalizeIp } from './rule-store.js';
import { evaluateRules, type RiskAssessment, type RiskObservations, type RiskRule } from './rules.js';

export { blockRiskSubject, currentRules, forgetCachedRules, normalizeIp, rulesTtlMs, setRiskRule, type RiskRuleRow } from './rule-store.js';
export { evaluateRules, parseRuleParams, type RiskAssessment, type RiskObservations, type RiskRule, type RiskVerdict } from './rules.js';
export { observationColumns, observationsOf, passingConditions, type Observed, type RiskSubject } from './facts.js';

/** An assessment and the observations it was made on (kept in the audit). */
export type RiskResult = RiskAssessment & { observations: RiskObservations };

/**
 * Risk control for one order attempt: the current rules (cached, see RISK_RULES_TTL_MS) against the
 * subject's recent orders and the blocklist. ALLOW: place the order; REVIEW: place it with
 * orders.risk_review = true; REJECT: refuse it with RISK_REJECTED.
 *
 * placeOrder makes the same assessment in the order's transaction, its observations read with the
 * prices (observationColumns, then assessObserved: placement.ts) under a per-user lock, so the
 * per-user counts are exact; per-IP and per-device counts may miss the attempts in flight (they
 * only ask for review).
 */
export async function assessRisk(em: EntityManager, subject: RiskSubject, loaded?: readonly RiskRule[]): Promise<RiskResult> {
  // Inside a transaction pass the rules loaded before it: loading takes a pooled connection of its own.
  const rules = loaded ?? (await currentRules(em));
  return assessObserved(rules, await gatherObservations(em, subject, rules));
}

/** The assessment of observations read already (placeOrder reads them with the prices: placement.ts). */
export const assessObserved = (rules: readonly RiskRule[], observations: RiskObservations): RiskResult => ({
  ...evaluateRules(rules, observations),
  observations,
});

/**
 * Audits a REVIEW or REJECT decision: one risk_decision row per rule that hit. Call it in the
 * order's transaction for REVIEW (with the order id), and on its own for REJECT (no order exists).
 * An ALLOW is not recorded.
 */
export async function recordRiskDecision(tx: EntityManager, result: RiskResult, orderId: string | null = null): Promise<void> {
  if (result.action === 'ALLOW') return;
  const facts = { decision: result.action, ...result.observations };
  if (result.hits.length === 0) return;
  await db(tx)
    .insertInto('risk_decision')
    .values(result.hits.map((hit) => ({ user_id: result.observations.userId, order_id: orderId, rule_id: hit.ruleId, action: hit.action, facts: json(facts) })))
    .execute();
}

/** What the buyer sees: no rule, threshold or list is revealed. */
export const riskRejected = (): DomainError =>
  new DomainError(ErrorCode.RISK_REJECTED, 'Your order could not be accepted. Please try again later or contact customer support.');

const DEVICE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Where an order attempt comes from, for risk control; null when unknown. */
export interface RiskClient {
  clientIp: string | null;
  deviceId: string | null;
}

/**
 * Reads the client IP and device id the gateway forwarded. Only the gateway's headers count: the
 * socket address of a subgraph request is the gateway's own, so it is never used.
 */
export function riskFacts(req: { headers: Record<string, string | string[] | undefined> }): RiskClient {
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return typeof v === 'string' ? v.trim() : undefined;
  };
  return riskClient({ clientIp: header(CLIENT_IP_HEADER), deviceId: header(DEVICE_ID_HEADER) });
}

/** Normalises the forwarded values of a request context (SubgraphContext.clientIp / deviceId). */
export function riskClient(raw: { clientIp?: string | null; deviceId?: string | null }): RiskClient {
  const ip = raw.clientIp?.trim();
  const device = raw.deviceId?.trim();
  return { clientIp: ip ? normalizeIp(ip) : null, deviceId: device && DEVICE_ID.test(device) ? device : null };
}
