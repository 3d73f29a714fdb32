import { DomainError, ErrorCode, badInput, sql, type EntityManager, type Identity } from '@shop/kit';
import { db } from '../persistence.js';
import { recordOrderEvent } from './order-events.js';
import { lockOrder, moveOrder, type OrderMove, type OrderRow, type TransitionOptions } from './order-state.js';
import { findOrder } from './orders.js';
import { paymentTtlSeconds } from './quote.js';

/**
 * Risk review (seed §13). An order that a REVIEW rule hit is placed with risk_review = true; once
 * its stock is held it waits in REVIEW (no payment, no payment deadline) instead of
 * PENDING_PAYMENT, until an admin resolves it: approve → PENDING_PAYMENT with a fresh payment
 * window; reject → CANCELED (RISK_REJECTED), which releases its stock.
 */

/**
 * Where an order goes once its stock is held: REVIEW when risk control flagged it, else PENDING_PAYMENT.
 * `expected`: the order as its placement wrote it, moved without a lock unless it changed since;
 * `alongside`: a write for the move's statement (moveOrder); `skuIds`: the order's SKUs, when known.
 */
export async function stockHeld(
  tx: EntityManager,
  orderId: string,
  correlationId: string,
  audit: Record<string, unknown>,
  options: Pick<TransitionOptions, 'expected' | 'alongside' | 'skuIds'> = {},
) {
  // risk_review is written with the order and never changes: the expected row tells it as a locked one would.
  const locked = options.expected ? undefined : await lockOrder(tx, orderId);
  const order = options.expected ?? locked;
  if (!order) throw new Error(`order ${orderId} does not exist`);
  const { to, options: moving } = stockHeldMove(order, correlationId, audit, { ...options, locked });
  return moveOrder(tx, orderId, to, moving);
}

/** stockHeld's move of `order` (locked, or as the caller expects it), for moveOrders. */
export function stockHeldMove(
  order: OrderRow,
  correlationId: string,
  audit: Record<string, unknown>,
  options: Pick<TransitionOptions, 'expected' | 'alongside' | 'skuIds' | 'locked'>,
): OrderMove {
  return { orderId: order.id, to: order.risk_review ? 'REVIEW' : 'PENDING_PAYMENT', options: { correlationId, onlyFrom: ['CREATED'], audit, ...options } };
}

/** Orders waiting in REVIEW, oldest first (ids are time-ordered), after the cursor's id. */
export function reviewQueue(em: EntityManager, limit: number, after: string | undefined): Promise<OrderRow[]> {
  return db(em)
    .selectFrom('orders')
    .selectAll()
    .where('status', '=', 'REVIEW')
    .$if(after !== undefined, (q) => q.where('id', '>', after!))
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** An admin's decision on an order in REVIEW; resolving it again the same way answers the order as it is. */
export async function resolveRiskReview(
  em: EntityManager,
  admin: Identity,
  orderId: string,
  approve: boolean,
  note: string | null,
  correlationId: string,
): Promise<OrderRow> {
  const why = note?.trim() ?? null;
  if (why !== null && why.length > 500) throw badInput('note must be at most 500 characters', { field: 'note' });
  return em.transactional(async (tx) => {
    const order = await findOrder(tx, orderId);
    if (!order) throw badInput(`order ${orderId} does not exist`, { field: 'orderId' });
    if (order.status !== 'REVIEW') {
      if ((await reviewExit(tx, orderId)) === (approve ? 'PENDING_PAYMENT' : 'CANCELED')) return order; // the same decision again
      throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `order ${orderId} is ${order.status}, not waiting for a risk review`, { status: order.status });
    }
    const audit = { review: approve ? 'APPROVED' : 'REJECTED', by: admin.userId, note: why };
    if (!approve) {
      return (await moveOrder(tx, orderId, 'CANCELED', { reason: 'RISK_REJECTED', correlationId, onlyFrom: ['REVIEW'], audit })).order;
    }
    const moved = await moveOrder(tx, orderId, 'PENDING_PAYMENT', { correlationId, onlyFrom: ['REVIEW'], audit });
    // The payment window starts when the buyer may pay, not when the order was placed.
    const fresh = await db(tx)
      .updateTable('orders')
      .set({ expire_at: sql<Date>`now() + make_interval(secs => ${paymentTtlSeconds()})` })
      .where('id', '=', orderId)
      .returning('expire_at')
      .executeTakeFirst();
    await recordOrderEvent(tx, {
      orderId,
      type: 'PAYMENT_WINDOW_RESET',
      from: 'PENDING_PAYMENT',
      to: 'PENDING_PAYMENT',
      version: moved.order.version,
      payload: { expireAt: fresh?.expire_at },
    });
    return { ...moved.order, expire_at: fresh?.expire_at ?? moved.order.expire_at };
  });
}

/** Where the order went when it left REVIEW, if it did. */
const reviewExit = async (tx: EntityManager, orderId: string): Promise<string | undefined> =>
  (
    await db(tx)
      .selectFrom('order_event')
      .select('to_status')
      .where('order_id', '=', orderId)
      .where('from_status', '=', 'REVIEW')
      .where('to_status', '<>', 'REVIEW')
      .orderBy('version')
      .limit(1)
      .executeTakeFirst()
  )?.to_status ?? undefined;
