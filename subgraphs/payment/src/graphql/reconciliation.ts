import { Arg, Ctx, Field, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import { Money, badInput, logger, requireAdmin, type SubgraphContext } from '@shop/kit';
import { reconcile, type Diff } from '../domain/reconciliation.js';

const MAX_WINDOW_MS = 31 * 86_400_000;

@ObjectType({ description: "one difference between the provider's ledger and our payments" })
export class ReconciliationDiff {
  @Field(() => String, { description: 'AMOUNT_MISMATCH, REFUNDED_AT_PROVIDER_ONLY, SUCCEEDED_HERE_ONLY, UNKNOWN_PAYMENT or REPAIR_FAILED' })
  kind!: string;

  @Field(() => String)
  paymentId!: string;

  @Field(() => String, { nullable: true })
  paymentTxnId!: string | null;

  @Field(() => String, { nullable: true })
  providerStatus!: string | null;

  @Field(() => Money, { nullable: true })
  providerAmount!: Money | null;

  @Field(() => String, { nullable: true })
  ourStatus!: string | null;

  @Field(() => Money, { nullable: true })
  ourAmount!: Money | null;

  @Field(() => String, { nullable: true })
  flaggedReason!: string | null;

  @Field(() => String, { nullable: true })
  detail!: string | null;
}

@ObjectType({ description: 'a result the provider decided that never reached us, replayed through the callback path' })
export class ReconciliationRepair {
  @Field(() => String)
  paymentId!: string;

  @Field(() => String)
  paymentTxnId!: string;

  @Field(() => String, { description: 'SUCCEEDED or FAILED' })
  status!: string;

  @Field(() => String, { description: 'APPLIED, DUPLICATE, UNKNOWN_PAYMENT, FLAGGED or NO_CHANGE' })
  outcome!: string;
}

@ObjectType()
export class ReconciliationReport {
  @Field(() => Date)
  from!: Date;

  @Field(() => Date)
  to!: Date;

  @Field(() => Int)
  providerTransactions!: number;

  @Field(() => [ReconciliationRepair])
  repaired!: ReconciliationRepair[];

  @Field(() => [ReconciliationDiff], { description: 'what is left after the repairs: for an operator to decide' })
  diffs!: ReconciliationDiff[];
}

const toDiff = (d: Diff): ReconciliationDiff =>
  Object.assign(new ReconciliationDiff(), {
    kind: d.kind,
    paymentId: d.paymentId,
    paymentTxnId: d.paymentTxnId,
    providerStatus: d.provider?.status ?? null,
    providerAmount: d.provider ? Money.of(d.provider.amount, d.provider.currency) : null,
    ourStatus: d.ours?.status ?? null,
    ourAmount: d.ours ? Money.of(d.ours.amount, d.ours.currency) : null,
    flaggedReason: d.ours?.flaggedReason ?? null,
    detail: d.detail ?? null,
  });

@Resolver()
export class ReconciliationResolver {
  @Mutation(() => ReconciliationReport, {
    description:
      'admin only: reconciles the provider ledger with our payments over [from, to] (at most 31 days), repairing what it can, as `npm run reconcile` does',
  })
  async reconcilePayments(@Ctx() ctx: SubgraphContext, @Arg('from', () => Date) from: Date, @Arg('to', () => Date) to: Date): Promise<ReconciliationReport> {
    const admin = requireAdmin(ctx);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw badInput('from and to must be date-times');
    if (from > to) throw badInput('from must not be after to', { field: 'from' });
    if (to.getTime() - from.getTime() > MAX_WINDOW_MS) throw badInput('the window is at most 31 days', { field: 'to' });
    const report = await reconcile(ctx.em, from, to, ctx.correlationId);
    logger.info({ by: admin.userId, repaired: report.repaired.length, diffs: report.diffs.length }, 'reconciliation run by an operator');
    return Object.assign(new ReconciliationReport(), {
      from,
      to,
      providerTransactions: report.providerTransactions,
      repaired: report.repaired.map((r) => Object.assign(new ReconciliationRepair(), r)),
      diffs: report.diffs.map(toDiff),
    });
  }
}
