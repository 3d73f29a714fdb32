import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Money, isAdmin, isService, loader, parseId, requireUser, type Identity, type SubgraphContext } from '@shop/kit';
import { db } from '../persistence.js';
import { latestPayments, payOrder } from '../domain/pay-order.js';
import type { PaymentRow } from '../domain/payment-state.js';
import { Order, Payment, PaymentSession } from './types.js';

export const toPayment = (row: PaymentRow): Payment =>
  Object.assign(new Payment(), { id: row.id, status: row.status, paymentTxnId: row.payment_txn_id, amount: Money.of(row.amount, row.currency) });

const mayRead = (identity: Identity | undefined, row: PaymentRow): boolean =>
  identity !== undefined && (identity.userId === row.user_id || isAdmin(identity) || isService(identity));

export const latestPaymentLoader = (ctx: SubgraphContext) => loader(ctx, 'latestPayment', (ids) => latestPayments(ctx.em, ids));

@Resolver(() => Order)
export class OrderPaymentResolver {
  @FieldResolver(() => Payment, { nullable: true, description: 'the latest payment of the order; only for its buyer and admins' })
  async payment(@Root() order: Order, @Ctx() ctx: SubgraphContext): Promise<Payment | null> {
    const row = await latestPaymentLoader(ctx).load(order.id);
    return row && mayRead(ctx.identity, row) ? toPayment(row) : null;
  }
}

@Resolver(() => Payment)
export class PaymentResolver {
  @Query(() => Payment, { nullable: true, description: 'a payment by id; its buyer or an admin only' })
  async payment(@Ctx() ctx: SubgraphContext, @Arg('id', () => ID) id: string): Promise<Payment | null> {
    const identity = requireUser(ctx);
    const row = await db(ctx.em).selectFrom('payment').selectAll().where('id', '=', parseId('pay', id)).executeTakeFirst();
    return row && mayRead(identity, row) ? toPayment(row) : null;
  }

  @Mutation(() => PaymentSession, { description: 'starts (or resumes) paying a PENDING_PAYMENT order; its buyer only' })
  async payOrder(@Ctx() ctx: SubgraphContext, @Arg('orderId', () => ID) orderId: string): Promise<PaymentSession> {
    const identity = requireUser(ctx);
    const session = await payOrder(ctx.em, identity, parseId('ord', orderId, 'orderId'), ctx.correlationId);
    return Object.assign(new PaymentSession(), {
      paymentId: session.paymentId,
      redirectUrl: session.redirectUrl,
      amount: Money.of(session.amount.amount, session.amount.currency),
    });
  }
}
