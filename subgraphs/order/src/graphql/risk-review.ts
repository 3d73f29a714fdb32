import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { decodeCursor, pageSize, parseId, requireAdmin, toConnection, type SubgraphContext } from '@shop/kit';
import { resolveRiskReview, reviewQueue } from '../domain/risk-review.js';
import { toOrder } from './resolvers.js';
import { Order, OrderConnection } from './types.js';

/** The admin console's risk review (seed §13): the orders waiting in REVIEW, and the decision on one. */
@Resolver(() => Order)
export class RiskReviewResolver {
  @Query(() => OrderConnection, { description: 'admin only: orders waiting in REVIEW for a risk decision, oldest first' })
  async riskReviewQueue(
    @Ctx() ctx: SubgraphContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<OrderConnection> {
    requireAdmin(ctx);
    const size = pageSize(first);
    const rows = await reviewQueue(ctx.em, size + 1, after ? decodeCursor(after) : undefined);
    return toConnection(rows.map(toOrder), size, (o) => o.id);
  }

  @Mutation(() => Order, {
    description:
      'admin only: resolves a risk review. approve: the order proceeds as a normal order (PENDING_PAYMENT, a fresh payment window); reject: CANCELED with RISK_REJECTED and its stock released',
  })
  async resolveRiskReview(
    @Ctx() ctx: SubgraphContext,
    @Arg('orderId', () => ID) orderId: string,
    @Arg('approve', () => Boolean) approve: boolean,
    @Arg('note', () => String, { nullable: true }) note?: string | null,
  ): Promise<Order> {
    const admin = requireAdmin(ctx);
    return toOrder(await resolveRiskReview(ctx.em, admin, parseId('ord', orderId, 'orderId'), approve, note ?? null, ctx.correlationId));
  }
}
