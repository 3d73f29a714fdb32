import { envInt, forbidden, isAdmin, logger, sql, type EntityManager, type Identity } from '@shop/kit';
import { applyTransition, findOrder, type OrderRow } from './orders.js';

/** cancelOrder: the owner (or an admin) cancels an order that is not paid yet. */
export async function cancelOrder(em: EntityManager, identity: Identity, orderId: string, correlationId: string): Promise<OrderRow> {
  const order = await findOrder(em, orderId);
  if (!order || (order.user_id !== identity.userId && !isAdmin(identity))) throw forbidden('This order is not yours');
  const result = await em.transactional((tx) =>
    applyTransition(tx, orderId, 'CANCELED', { reason: 'USER_CANCELED', correlationId, audit: { by: identity.userId } }),
  );
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
    const expired = await sql(tx).all<{ id: string }>(
      `SELECT id FROM orders WHERE status IN ('CREATED', 'PENDING_PAYMENT') AND expire_at + make_interval(secs => ?) <= now()
        ORDER BY expire_at LIMIT ? FOR UPDATE SKIP LOCKED`,
      [paymentGraceSeconds(), batchSize],
    );
    for (const { id } of expired) {
      await applyTransition(tx, id, 'CANCELED', { reason: 'PAYMENT_TIMEOUT', correlationId: `timeout:${id}`, onlyFrom: ['CREATED', 'PENDING_PAYMENT'] });
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
