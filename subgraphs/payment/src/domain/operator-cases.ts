import type { MikroORM } from '@mikro-orm/postgresql';
import { computedGauge, sql, type EntityManager } from '@shop/kit';
import type { EventEnvelope } from '@shop/schema';
import { audit } from './payment-state.js';

/**
 * Operator cases of the payment subgraph (README "Operator cases"), each a state in the payment
 * table with a gauge that an alert rule watches (infra/monitoring/alerts.yml):
 * - payment_flagged_open: PENDING payments flagged for reconciliation (an amount or currency that
 *   does not match, a result the payment could not take);
 * - payment_abandoned_pending: PENDING payments whose order was canceled more than an hour ago
 *   (order_closed_at). If the provider still captures one, the success is refunded through the
 *   compensation path; until then the operator checks it with `npm run reconcile -- --dry-run`.
 */
let source: MikroORM | undefined;
export const watchOperatorCases = (orm: MikroORM): void => {
  source = orm;
};
const count = async (query: string): Promise<number> => {
  if (!source) return 0;
  const row = await sql(source.em.fork()).one<{ n: string }>(query);
  return Number(row?.n ?? 0);
};
computedGauge('payment_flagged_open', 'PENDING payments flagged for reconciliation (amount mismatch, unexpected result)', () =>
  count(`SELECT count(*) AS n FROM payment WHERE status = 'PENDING' AND flagged_reason IS NOT NULL`),
);
computedGauge('payment_abandoned_pending', 'PENDING payments whose order was canceled more than an hour ago', () =>
  count(`SELECT count(*) AS n FROM payment WHERE status = 'PENDING' AND order_closed_at < now() - interval '1 hour'`),
);

/** order.status-changed to CANCELED: the order's PENDING payment is marked (its status stays: the provider decides it). */
export async function orderClosed(tx: EntityManager, event: EventEnvelope<'order.status-changed'>): Promise<void> {
  if (event.payload.to !== 'CANCELED') return;
  const marked = await sql(tx).all<{ id: string }>(
    `UPDATE payment SET order_closed_at = now() WHERE order_id = ? AND status = 'PENDING' AND order_closed_at IS NULL RETURNING id`,
    [event.payload.orderId],
  );
  for (const { id } of marked) await audit(tx, id, 'ORDER_CLOSED', { reason: event.payload.reason, eventId: event.eventId });
}
