import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import {
  Money,
  decodeCursor,
  forbidden,
  groupBy,
  isAdmin,
  isService,
  loader,
  pageSize,
  parseId,
  requireAdmin,
  requireUser,
  toConnection,
  type SubgraphContext,
} from '@shop/kit';
import { addAddress, listAddresses } from '../domain/addresses.js';
import { cancelOrder } from '../domain/lifecycle.js';
import { itemsByOrders, listOrders, ordersByIds, type OrderRow } from '../domain/orders.js';
import { placeOrder } from '../domain/placement.js';
import { previewOrder } from '../domain/preview.js';
import { recordPlacement } from '../domain/metrics.js';
import { riskClient } from '../domain/risk/index.js';
import { approveRefund, refundsOfOrders, requestRefund, type RefundRow } from '../domain/refunds.js';
import {
  Address,
  AddressInput,
  Order,
  OrderConnection,
  OrderItem,
  OrderPreview,
  OrderStatus,
  PlaceOrderInput,
  PlaceOrderResult,
  PreviewOrderInput,
  Refund,
  Sku,
} from './types.js';

export const toOrder = (row: OrderRow): Order =>
  Object.assign(new Order(), {
    id: row.id,
    userId: row.user_id,
    status: row.status,
    cancelReason: row.cancel_reason,
    total: Money.of(row.total, row.currency),
    discount: Money.of(row.discount, row.currency),
    shippingFee: Money.of(row.shipping_fee, row.currency),
    payable: Money.of(row.payable, row.currency),
    expireAt: new Date(row.expire_at),
    createdAt: new Date(row.created_at),
    version: row.version,
  });

export const orderLoader = (ctx: SubgraphContext) => loader(ctx, 'order', (ids) => ordersByIds(ctx.em, ids));
const itemsLoader = (ctx: SubgraphContext) => loader(ctx, 'orderItems', (ids) => itemsByOrders(ctx.em, ids));
const refundsLoader = (ctx: SubgraphContext) =>
  loader(ctx, 'orderRefunds', async (ids) => {
    const rows = await refundsOfOrders(ctx.em, ids);
    return groupBy(rows, (r) => r.order_id);
  });

/** Owner, admin, or a subgraph calling with its service identity. */
export const maySee = (ctx: SubgraphContext, row: OrderRow): boolean =>
  ctx.identity !== undefined && (row.user_id === ctx.identity.userId || isAdmin(ctx.identity) || isService(ctx.identity));

@Resolver(() => Order)
export class OrderResolver {
  @Query(() => Order, { nullable: true, description: 'owner or admin; anyone else: FORBIDDEN' })
  async order(@Ctx() ctx: SubgraphContext, @Arg('id', () => ID) id: string): Promise<Order | null> {
    requireUser(ctx);
    const row = await orderLoader(ctx).load(parseId('ord', id));
    if (!row) return null;
    if (!maySee(ctx, row)) throw forbidden('This order is not yours');
    return toOrder(row);
  }

  @Query(() => OrderConnection, { description: "the signed-in user's orders, newest first" })
  async orders(
    @Ctx() ctx: SubgraphContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('status', () => OrderStatus, { nullable: true }) status?: OrderStatus | null,
  ): Promise<OrderConnection> {
    const identity = requireUser(ctx);
    const size = pageSize(first);
    const rows = await listOrders(ctx.em, identity.userId, size + 1, after ? decodeCursor(after) : undefined, status ?? undefined);
    return toConnection(rows.map(toOrder), size, (o) => o.id);
  }

  @FieldResolver(() => [OrderItem])
  async items(@Root() order: Order, @Ctx() ctx: SubgraphContext): Promise<OrderItem[]> {
    const rows = (await itemsLoader(ctx).load(order.id)) ?? [];
    return rows.map((r) =>
      Object.assign(new OrderItem(), { sku: Object.assign(new Sku(), { id: r.sku_id }), qty: r.qty, unitPrice: Money.of(r.unit_price, order.total.currency) }),
    );
  }

  @FieldResolver(() => [Refund], { description: 'refund requests of this order, newest first' })
  async refunds(@Root() order: Order, @Ctx() ctx: SubgraphContext): Promise<Refund[]> {
    return ((await refundsLoader(ctx).load(order.id)) ?? []).map(toRefund);
  }

  @Mutation(() => OrderPreview)
  async previewOrder(@Ctx() ctx: SubgraphContext, @Arg('input', () => PreviewOrderInput) input: PreviewOrderInput): Promise<OrderPreview> {
    const identity = requireUser(ctx);
    const p = await previewOrder(ctx.em, identity.userId, input, ctx.correlationId);
    return Object.assign(new OrderPreview(), {
      previewId: p.previewId,
      total: Money.of(p.total, p.currency),
      discount: Money.of(p.discount, p.currency),
      shippingFee: Money.of(p.shippingFee, p.currency),
      payable: Money.of(p.payable, p.currency),
      stockCheck: p.stockCheck,
      expiresAt: p.expiresAt,
      queuePosition: p.queuePosition,
    });
  }

  @Mutation(() => PlaceOrderResult)
  async placeOrder(@Ctx() ctx: SubgraphContext, @Arg('input', () => PlaceOrderInput) input: PlaceOrderInput): Promise<PlaceOrderResult> {
    const identity = requireUser(ctx);
    const startedAt = Date.now();
    let result: Awaited<ReturnType<typeof placeOrder>>;
    try {
      result = await placeOrder(ctx.em, identity, input, ctx.correlationId, riskClient(ctx));
    } catch (error) {
      recordPlacement(startedAt, false);
      throw error;
    }
    recordPlacement(startedAt, true);
    return Object.assign(new PlaceOrderResult(), { order: toOrder(result.order), replayed: result.replayed });
  }

  @Mutation(() => Order, { description: 'cancels an order that is not paid yet (CREATED, REVIEW or PENDING_PAYMENT)' })
  async cancelOrder(@Ctx() ctx: SubgraphContext, @Arg('orderId', () => ID) orderId: string): Promise<Order> {
    const identity = requireUser(ctx);
    return toOrder(await cancelOrder(ctx.em, identity, parseId('ord', orderId, 'orderId'), ctx.correlationId));
  }
}

/** A row read back has created_at; one just inserted in this request was created now. */
export const toRefund = (r: RefundRow): Refund =>
  Object.assign(new Refund(), {
    id: r.id,
    orderId: r.order_id,
    status: r.status,
    amount: Money.of(r.amount, r.currency),
    reason: r.reason,
    restock: r.restock,
    createdAt: r.created_at ? new Date(r.created_at) : new Date(),
  });

@Resolver(() => Refund)
export class RefundResolver {
  @Mutation(() => Refund, { description: 'full refund of a PAID or SHIPPED order; after shipping an admin approves it first' })
  async requestRefund(@Ctx() ctx: SubgraphContext, @Arg('orderId', () => ID) orderId: string, @Arg('reason', () => String) reason: string): Promise<Refund> {
    const identity = requireUser(ctx);
    return toRefund(await requestRefund(ctx.em, identity, parseId('ord', orderId, 'orderId'), reason, ctx.correlationId));
  }

  @Mutation(() => Refund, { description: 'admin only: approves a refund waiting for approval' })
  async approveRefund(@Ctx() ctx: SubgraphContext, @Arg('refundId', () => ID) refundId: string): Promise<Refund> {
    const identity = requireAdmin(ctx);
    return toRefund(await approveRefund(ctx.em, identity, parseId('rfd', refundId, 'refundId'), ctx.correlationId));
  }
}

@Resolver(() => Address)
export class AddressResolver {
  @Query(() => [Address], { description: "the signed-in user's addresses" })
  async addresses(@Ctx() ctx: SubgraphContext): Promise<Address[]> {
    const identity = requireUser(ctx);
    return (await listAddresses(ctx.em, identity.userId)).map((a) => Object.assign(new Address(), a));
  }

  @Mutation(() => Address)
  async addAddress(@Ctx() ctx: SubgraphContext, @Arg('input', () => AddressInput) input: AddressInput): Promise<Address> {
    const identity = requireUser(ctx);
    return Object.assign(new Address(), await addAddress(ctx.em, identity.userId, input));
  }
}
