import { DomainError, ErrorCode, badInput, envString, forbidden, idsOfOrders, logger, newId, type EntityManager, type Identity, dbClock, sql } from '@shop/kit';
import { db } from '../persistence.js';
import { fetchOrderFacts, OrderServiceUnavailableError } from './order-facts.js';
import { PAYMENT_KEYS } from './partitions.js';
import { audit, type PaymentRow } from './payment-state.js';
import { createIntent, PspRejectedError, PspUnavailableError } from './psp-client.js';

/** Error code for a dependency that is down (the order subgraph, the payment provider): retry later. */
export const SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE' as ErrorCode;

export interface PaymentSessionView {
  paymentId: string;
  redirectUrl: string;
  amount: { amount: number; currency: string };
}

export const callbackUrl = (): string => envString('PAYMENT_CALLBACK_URL', 'http://127.0.0.1:4000/internal/v1/payment/callback');
export const returnUrl = (orderId: string): string => `${envString('STOREFRONT_URL', 'http://127.0.0.1:5173').replace(/\/+$/, '')}/orders/${orderId}`;

/**
 * payOrder: one active payment per order. The order's facts come from the order subgraph; the
 * payment's key row is inserted under the unique index payment_one_active_per_order (payment_key,
 * which holds across the partitions of payments), so concurrent calls share one payment
 * (and one provider intent, idempotent on merchantRef = paymentId). When the provider is down the
 * payment stays PENDING without an intent and the next call creates it.
 */
export async function payOrder(em: EntityManager, identity: Identity, orderId: string, correlationId: string): Promise<PaymentSessionView> {
  let order;
  try {
    order = await fetchOrderFacts(orderId, correlationId);
  } catch (error) {
    if (error instanceof OrderServiceUnavailableError) throw new DomainError(SERVICE_UNAVAILABLE, error.message);
    throw error;
  }
  if (!order) throw badInput(`unknown order ${orderId}`, { field: 'orderId' });
  if (order.userId !== identity.userId) throw forbidden('Only the buyer of this order can pay it');
  if (order.status !== 'PENDING_PAYMENT') {
    throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `order ${orderId} is ${order.status}: only a PENDING_PAYMENT order can be paid`);
  }
  if (Date.parse(order.expireAt) <= Date.now()) {
    throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `the payment deadline of order ${orderId} has passed`, { expireAt: order.expireAt });
  }
  if (order.payable.amount <= 0) throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `order ${orderId} has nothing to pay`);

  const payment = await activePayment(em, orderId, order.userId, order.payable);
  if (payment.status !== 'PENDING') {
    throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `order ${orderId} is already paid (payment ${payment.id})`);
  }
  if (payment.checkout_url) return sessionOf(payment, payment.checkout_url);

  let intent;
  try {
    intent = await createIntent({
      merchantRef: payment.id,
      orderId,
      amount: payment.amount,
      currency: payment.currency,
      callbackUrl: callbackUrl(),
      returnUrl: returnUrl(orderId),
    });
  } catch (error) {
    if (error instanceof PspUnavailableError) {
      logger.warn({ err: error, paymentId: payment.id, correlationId }, 'payment provider unavailable: payment stays PENDING');
      throw new DomainError(SERVICE_UNAVAILABLE, 'The payment provider is unavailable right now: try paying again in a moment', { paymentId: payment.id });
    }
    if (error instanceof PspRejectedError) logger.error({ err: error, paymentId: payment.id, correlationId }, 'payment provider refused the intent');
    throw error;
  }
  await em.fork().transactional(async (tx) => {
    const changed = await db(tx)
      .updateTable('payment')
      .set({ psp_intent_id: intent.intentId, checkout_url: intent.checkoutUrl, updated_at: dbClock() })
      .where('id', '=', payment.id)
      .where('psp_intent_id', 'is', null)
      .executeTakeFirst();
    if (changed.numUpdatedRows > 0n) await audit(tx, payment.id, 'INTENT_CREATED', { intentId: intent.intentId, paymentTxnId: intent.paymentTxnId });
  });
  return sessionOf(payment, intent.checkoutUrl);
}

const sessionOf = (payment: PaymentRow, redirectUrl: string): PaymentSessionView => ({
  paymentId: payment.id,
  redirectUrl,
  amount: { amount: payment.amount, currency: payment.currency },
});

/**
 * Inserts the order's PENDING payment, or finds the active one another call inserted first: the key
 * row is claimed first under payment_one_active_per_order (payment_key, across partitions), so a
 * concurrent call waits for this one and then reads its payment.
 */
async function activePayment(em: EntityManager, orderId: string, userId: string, payable: { amount: number; currency: string }): Promise<PaymentRow> {
  return em.fork().transactional(async (tx) => {
    const id = newId('pay');
    const claimed = await db(tx)
      .insertInto('payment_key')
      .values({ payment_id: id, order_id: orderId, active: true })
      // The partial index's predicate as a literal: a parameter there cannot prove the index in a generic plan
      // (statements sent often are prepared: kit statement-cache.ts).
      .onConflict((oc) => oc.column('order_id').where('active', '=', sql.lit(true)).doNothing())
      .returning('payment_id')
      .executeTakeFirst();
    if (claimed) {
      const created = await db(tx)
        .insertInto('payment')
        .values({ id, order_id: orderId, user_id: userId, amount: payable.amount, currency: payable.currency, status: 'PENDING' })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(tx, id, 'CREATED', { orderId, amount: payable.amount, currency: payable.currency });
      return created;
    }
    const [activeId] = await paymentIdsOfOrders(tx, [orderId], { activeOnly: true });
    const existing = activeId && (await db(tx).selectFrom('payment').selectAll().where('id', '=', activeId).executeTakeFirst());
    if (!existing) throw new Error(`payment of order ${orderId} vanished between insert and read`);
    return existing;
  });
}

/**
 * The ids of the payments of these orders, from the unpartitioned payment_key: a query by order
 * then reads the payments by id, i.e. only the partitions they are in. For orders old enough that
 * their key rows may have been pruned (PAYMENT_KEYS), from the partitions by order id
 * (payment_order_idx), only those from the order's creation on.
 */
export async function paymentIdsOfOrders(em: EntityManager, orderIds: readonly string[], { activeOnly = false } = {}): Promise<string[]> {
  return idsOfOrders(orderIds, PAYMENT_KEYS, {
    fromKeys: (ids) =>
      db(em)
        .selectFrom('payment_key')
        .select(['payment_id as id', 'order_id'])
        .where('order_id', 'in', ids)
        .$if(activeOnly, (q) => q.where('active', '=', true))
        .execute(),
    fromRows: (ids, idFrom) =>
      db(em)
        .selectFrom('payment')
        .select(['id', 'order_id'])
        .where('order_id', 'in', ids)
        .$if(idFrom !== undefined, (q) => q.where('id', '>=', idFrom!))
        .$if(activeOnly, (q) => q.where('status', 'in', ['PENDING', 'SUCCEEDED']))
        .execute(),
  });
}

/** Latest payment of each order (Order.payment). */
export async function latestPayments(em: EntityManager, orderIds: readonly string[]): Promise<Map<string, PaymentRow>> {
  const ids = await paymentIdsOfOrders(em, orderIds);
  if (ids.length === 0) return new Map();
  const found = await db(em)
    .selectFrom('payment')
    .distinctOn('order_id')
    .selectAll()
    .where('id', 'in', ids)
    .orderBy('order_id')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return new Map(found.map((p) => [p.order_id, p]));
}
