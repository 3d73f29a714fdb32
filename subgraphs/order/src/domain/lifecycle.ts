import { envInt, forbidden, isAdmin, logger, type EntityManager, type Identity, sql } from '@shop/kit';
import { db } from '../persistence.js';
import { moveOrder, type OrderRow } from './order-state.js';
import { findOrder } from './orders.js';

/** cancelOrder: the owner (or an admin) cancels an order that is not paid yet. */
export async function cancelOrder(em: EntityManager, identity: Identity, orderId: string, correlationId: string): Promise<OrderRow> {
  const order = await findOrder(em, orderId);
  if (!order || (order.user_id !== identity.userId && !isAdmin(identity))) throw forbidden('This order is not yours');
  const result = await em.transactional((tx) => moveOrder(tx, orderId, 'CANCELED', { reason: 'USER_CANCELED', correlationId, audit: { by: identity.userId } }));
  return result.order;
}

/**
 * The grace window after an order's payment deadline (expireAt): a payment the provider captured
 * before the deadline may report later (callback retries, a slow network, reconciliation), so the
 * order keeps its stock this much longer before it is canceled. payOrder refuses to start a payment
 * after the deadline, so what arrives in the window was paid in time. ORDER_PAYMENT_GRACE_SECONDS.
 */
export const paymentGraceSeconds = (): number => envInt('ORDER_PAYMENT_GRACE_SECONDS', 300);

/**
 * Cancels orders whose payment window and its grace window closed (seed §9.4, §15.4). Several
 * processes may run it at once: FOR UPDATE SKIP LOCKED hands each expired order to one of them,
 * and the status condition is evaluated again after the lock, so an order paid at the last moment
 * is never canceled.
 */
export async function cancelExpiredOrders(em: EntityManager, batchSize = 100): Promise<number> {
  return em.fork().transactional(async (tx) => {
    const expired = await db(tx)
      .selectFrom('orders')
      .select('id')
      .where('status', 'in', ['CREATED', 'PENDING_PAYMENT'])
      // The column alone on one side: an index condition on orders_expiry_idx, so the scan stops at the first order not yet due.
      .where('expire_at', '<=', sql<string>`now() - make_interval(secs => ${paymentGraceSeconds()})`)
      .orderBy('expire_at')
      .limit(batchSize)
      .forUpdate()
      .skipLocked()
      .execute();
    for (const { id } of expired) {
      await moveOrder(tx, id, 'CANCELED', { reason: 'PAYMENT_TIMEOUT', correlationId: `timeout:${id}`, onlyFrom: ['CREATED', 'PENDING_PAYMENT'] });
    }
    return expired.length;
  });
}

export function startTimeoutJob(em: EntityManager): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(
    () => {
      running = running
        .then(async () => {
          let n: number;
          do {
            n = await cancelExpiredOrders(em);
            if (n > 0) logger.info({ canceled: n }, 'canceled orders past their payment deadline');
          } while (n > 0);
        })
        .catch((err: unknown) => logger.warn({ err }, 'order timeout pass failed; will retry'));
    },
    envInt('ORDER_TIMEOUT_SWEEP_MS', 1000),
  );
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
