import { Arg, Ctx, Field, ID, Mutation, ObjectType, Resolver } from 'type-graphql';
import { requireAdmin, type SubgraphContext } from '@shop/kit';
import { blockRiskSubject, setRiskRule, type RiskRuleRow } from '../domain/risk/index.js';

@ObjectType({ description: 'a risk control rule (seed §13); rules are data, changed by admins without a deploy' })
export class RiskRule {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'ORDERS_PER_USER, ORDERS_PER_IP, ORDERS_PER_DEVICE, PAYABLE_ABOVE or BLOCKLIST' })
  kind!: string;

  @Field(() => String, { description: 'REJECT or REVIEW' })
  action!: string;

  @Field(() => Boolean)
  enabled!: boolean;

  @Field(() => String, { description: 'the parameters as JSON, e.g. {"max": 5, "windowSeconds": 600}' })
  params!: string;

  @Field(() => Date)
  updatedAt!: Date;
}

const toRiskRule = (r: RiskRuleRow): RiskRule =>
  Object.assign(new RiskRule(), {
    id: r.id,
    kind: r.kind,
    action: r.action,
    enabled: r.enabled,
    params: JSON.stringify(r.params),
    updatedAt: new Date(r.updated_at),
  });

@Resolver(() => RiskRule)
export class RiskResolver {
  @Mutation(() => RiskRule, {
    description: 'admin only: enables or disables a risk rule, optionally with a new action and params (JSON); applies within RISK_RULES_TTL_MS',
  })
  async setRiskRule(
    @Ctx() ctx: SubgraphContext,
    @Arg('id', () => ID) id: string,
    @Arg('enabled', () => Boolean) enabled: boolean,
    @Arg('action', () => String, { nullable: true }) action?: string | null,
    @Arg('params', () => String, { nullable: true }) params?: string | null,
  ): Promise<RiskRule> {
    const admin = requireAdmin(ctx);
    return toRiskRule(await setRiskRule(ctx.em, admin, { id, enabled, action, params }));
  }

  @Mutation(() => Boolean, { description: 'admin only: blocks a USER, DEVICE or IP from placing orders' })
  async blockRiskSubject(
    @Ctx() ctx: SubgraphContext,
    @Arg('kind', () => String) kind: string,
    @Arg('value', () => String) value: string,
    @Arg('reason', () => String) reason: string,
  ): Promise<boolean> {
    const admin = requireAdmin(ctx);
    await blockRiskSubject(ctx.em, admin, { kind, value, reason });
    return true;
  }
}
