import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import { badInput, decodeCursor, isAdmin, loader, pageSize, parseId, requireAdmin, sql, toConnection, type SubgraphContext } from '@shop/kit';
import { eventsByOrders, searchOrders } from '../domain/admin-orders.js';
import type { RefundRow } from '../domain/refunds.js';
import { OrderEvent } from './admin-types.js';
import { orderLoader, toOrder, toRefund } from './resolvers.js';
import { Order, OrderConnection, OrderStatus, Refund } from './types.js';

const eventsLoader = (ctx: SubgraphContext) => loader(ctx, 'orderEvents', (ids) => eventsByOrders(ctx.em, ids));

const REFUND_STATUSES = ['PENDING_APPROVAL', 'REQUESTED', 'SUCCEEDED', 'FAILED', 'REJECTED'];

function date(value: Date | null | undefined, field: string): Date | undefined {
  if (value === null || value === undefined) return undefined;
  if (Number.isNaN(value.getTime())) throw badInput(`${field} is not a date-time`, { field });
  return value;
}

/** The operations console's view of orders: every buyer's, searchable, with the audit trail. Admins only. */
@Resolver(() => Order)
export class AdminOrderResolver {
  @Query(() => OrderConnection, { description: 'admin only: every order, newest first; search is an order id, its last 8 characters, or a user id' })
  async adminOrders(
    @Ctx() ctx: SubgraphContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('status', () => OrderStatus, { nullable: true }) status?: OrderStatus | null,
    @Arg('search', () => String, { nullable: true }) search?: string | null,
    @Arg('placedFrom', () => Date, { nullable: true }) placedFrom?: Date | null,
    @Arg('placedTo', () => Date, { nullable: true }) placedTo?: Date | null,
  ): Promise<OrderConnection> {
    requireAdmin(ctx);
    const size = pageSize(first);
    if (search && search.length > 100) throw badInput('search is at most 100 characters', { field: 'search' });
    const rows = await searchOrders(
      ctx.em,
      { status: status ?? undefined, text: search ?? undefined, placedFrom: date(placedFrom, 'placedFrom'), placedTo: date(placedTo, 'placedTo') },
      size + 1,
      after ? decodeCursor(after) : undefined,
    );
    return toConnection(rows.map(toOrder), size, (o) => o.id);
  }

  @FieldResolver(() => [OrderEvent], { description: 'admin only: the audit trail of every status change, oldest first' })
  async events(@Root() order: Order, @Ctx() ctx: SubgraphContext): Promise<OrderEvent[]> {
    requireAdmin(ctx);
    return ((await eventsLoader(ctx).load(order.id)) ?? []).map((e) =>
      Object.assign(new OrderEvent(), {
        id: e.id,
        type: e.event_type,
        fromStatus: e.from_status,
        toStatus: e.to_status,
        version: e.version,
        details: JSON.stringify(e.payload ?? {}),
        at: new Date(e.created_at),
      }),
    );
  }
}

@Resolver(() => Refund)
export class AdminRefundResolver {
  @Query(() => [Refund], { description: 'admin only: refund requests in a status (default PENDING_APPROVAL), oldest first' })
  async refundRequests(
    @Ctx() ctx: SubgraphContext,
    @Arg('status', () => String, { nullable: true, defaultValue: 'PENDING_APPROVAL' }) status: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
  ): Promise<Refund[]> {
    requireAdmin(ctx);
    const wanted = status ?? 'PENDING_APPROVAL';
    if (!REFUND_STATUSES.includes(wanted)) throw badInput(`status must be one of ${REFUND_STATUSES.join(', ')}`, { field: 'status' });
    const rows = await sql(ctx.em).all<RefundRow>('SELECT * FROM refund_request WHERE status = ? ORDER BY created_at, id LIMIT ?', [wanted, pageSize(first)]);
    return rows.map(toRefund);
  }

  @FieldResolver(() => Order, { nullable: true, description: 'the order refunded (its buyer and admins)' })
  async order(@Root() refund: Refund, @Ctx() ctx: SubgraphContext): Promise<Order | null> {
    const row = await orderLoader(ctx).load(parseId('ord', refund.orderId));
    return row && (row.user_id === ctx.identity?.userId || isAdmin(ctx.identity)) ? toOrder(row) : null;
  }
}
