import { isIP } from 'node:net';
import { badInput, envInt, json, logger, type EntityManager, type Identity, type Selectable, dbNow } from '@shop/kit';
import { db, type Db } from '../../persistence.js';
import { BLOCK_KINDS, isRiskAction, isRuleKind, parseRuleParams, type BlockKind, type RiskAction, type RiskRule } from './rules.js';

export type RiskRuleRow = Selectable<Db['risk_rule']>;

/** Rules are read at most once per RISK_RULES_TTL_MS (default 5000) per process: an edit applies everywhere within that time. */
export const rulesTtlMs = (): number => envInt('RISK_RULES_TTL_MS', 5000);

let cached: { rules: RiskRule[]; at: number } | undefined;
let loading: Promise<RiskRule[]> | undefined;

/** A row as a rule; a row an SQL edit broke is logged and left out rather than stopping every order. */
function toRule(row: RiskRuleRow): RiskRule | undefined {
  if (!isRuleKind(row.kind) || !isRiskAction(row.action)) {
    logger.error({ ruleId: row.id, kind: row.kind, action: row.action }, 'risk rule has an unknown kind or action: ignored');
    return undefined;
  }
  const parsed = parseRuleParams(row.kind, row.params);
  if (!parsed.ok) {
    logger.error({ ruleId: row.id, params: row.params, problem: parsed.problem }, 'risk rule has invalid params: ignored');
    return undefined;
  }
  return { id: row.id, kind: row.kind, action: row.action, enabled: row.enabled, params: parsed.params } as RiskRule;
}

/** The current rules (enabled or not), from the in-process cache while it is fresh. */
export async function currentRules(em: EntityManager): Promise<RiskRule[]> {
  if (cached && Date.now() - cached.at < rulesTtlMs()) return cached.rules;
  loading ??= (async () => {
    try {
      // On a pooled connection of its own: the load is shared by concurrent callers, whatever their transactions do.
      const rows = await db(em.fork()).selectFrom('risk_rule').selectAll().orderBy('id').execute();
      const rules = rows.map(toRule).filter((r): r is RiskRule => r !== undefined);
      cached = { rules, at: Date.now() };
      return rules;
    } finally {
      loading = undefined;
    }
  })();
  return loading;
}

/** Forgets the cached rules of this process (an admin edit here applies at once). */
export const forgetCachedRules = (): void => {
  cached = undefined;
};

export interface SetRiskRuleInput {
  id: string;
  enabled: boolean;
  action?: string | null;
  /** JSON text; replaces the rule's params when given. */
  params?: string | null;
}

/** Enables or disables a rule and optionally changes its action and params (checked against its kind). */
export async function setRiskRule(em: EntityManager, admin: Identity, input: SetRiskRuleInput): Promise<RiskRuleRow> {
  const existing = await db(em).selectFrom('risk_rule').select('kind').where('id', '=', input.id).executeTakeFirst();
  if (!existing) throw badInput(`risk rule "${input.id.slice(0, 60)}" does not exist`, { field: 'id' });
  let action: RiskAction | null = null;
  if (input.action !== undefined && input.action !== null) {
    if (!isRiskAction(input.action)) throw badInput('action must be REJECT or REVIEW', { field: 'action' });
    action = input.action;
  }
  let params: Record<string, unknown> | null = null;
  if (input.params !== undefined && input.params !== null) {
    let raw: unknown;
    try {
      raw = JSON.parse(input.params);
    } catch {
      throw badInput('params must be JSON text, e.g. {"max": 5, "windowSeconds": 600}', { field: 'params' });
    }
    const parsed = parseRuleParams(existing.kind, raw);
    if (!parsed.ok) throw badInput(`params of a ${existing.kind} rule: ${parsed.problem}`, { field: 'params' });
    params = parsed.params as Record<string, unknown>;
  }
  const row = await db(em)
    .updateTable('risk_rule')
    .set({
      enabled: input.enabled,
      ...(action ? { action } : {}),
      ...(params ? { params: json(params) } : {}),
      updated_by: admin.userId,
      updated_at: dbNow(),
    })
    .where('id', '=', input.id)
    .returningAll()
    .executeTakeFirst();
  forgetCachedRules();
  logger.info({ ruleId: input.id, enabled: input.enabled, action, params, by: admin.userId }, 'risk rule changed');
  return row!;
}

export interface BlockInput {
  kind: string;
  value: string;
  reason: string;
}

/** Blocks a user, device or IP address from placing orders (the BLOCKLIST rule); blocking again updates the reason. */
export async function blockRiskSubject(em: EntityManager, admin: Identity, input: BlockInput): Promise<void> {
  if (!(BLOCK_KINDS as readonly string[]).includes(input.kind)) throw badInput('kind must be USER, DEVICE or IP', { field: 'kind' });
  const kind = input.kind as BlockKind;
  const value = kind === 'IP' ? normalizeIp(input.value.trim()) : input.value.trim();
  if (!value || value.length > 200)
    throw badInput(kind === 'IP' ? 'value must be an IPv4 or IPv6 address' : 'value must be 1 to 200 characters', { field: 'value' });
  const reason = input.reason.trim();
  if (!reason || reason.length > 500) throw badInput('reason must be 1 to 500 characters', { field: 'reason' });
  await db(em)
    .insertInto('risk_blocklist')
    .values({ kind, value, reason, created_by: admin.userId })
    .onConflict((oc) =>
      oc
        .columns(['kind', 'value'])
        .doUpdateSet((eb) => ({ reason: eb.ref('excluded.reason'), created_by: eb.ref('excluded.created_by'), created_at: dbNow() })),
    )
    .execute();
  logger.info({ kind, value, reason, by: admin.userId }, 'risk subject blocked');
}

/** An IP address in one spelling ("::ffff:1.2.3.4" is 1.2.3.4), or null when it is not one. */
export function normalizeIp(raw: string): string | null {
  const value = raw.startsWith('::ffff:') && isIP(raw.slice(7)) === 4 ? raw.slice(7) : raw;
  if (!isIP(value)) return null;
  return value.toLowerCase();
}
