import type { MikroORM } from '@mikro-orm/postgresql';
import { computedGauge, dbNow, dbSecondsAgo, partitionsAheadSeconds, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';
import type { EventEnvelope } from '@shop/schema';
import { paymentIdsOfOrders } from './pay-order.js';
import { PAYMENT_PARTITIONS } from './partitions.js';
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
const pendingPayments = () =>
  db(source!.em.fork())
    .selectFrom('payment')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', '=', 'PENDING');
const count = async (query: ReturnType<typeof pendingPayments> | undefined): Promise<number> => Number((await query?.executeTakeFirst())?.n ?? 0);
computedGauge('payment_flagged_open', 'PENDING payments flagged for reconciliation (amount mismatch, unexpected result)', () =>
  count(source && pendingPayments().where('flagged_reason', 'is not', null)),
);
computedGauge('payment_abandoned_pending', 'PENDING payments whose order was canceled more than an hour ago', () =>
  count(source && pendingPayments().where('order_closed_at', '<', dbSecondsAgo(3600))),
);
computedGauge('payment_partitions_ahead_seconds', 'how far ahead of now the last partition of payment.payment reaches, seconds (partitions.ts)', async () =>
  source ? partitionsAheadSeconds(source.em.fork(), PAYMENT_PARTITIONS) : 0,
);

/** order.status-changed to CANCELED: the order's PENDING payment is marked (its status stays: the provider decides it). */
export async function orderClosed(tx: EntityManager, event: EventEnvelope<'order.status-changed'>): Promise<void> {
  if (event.payload.to !== 'CANCELED') return;
  const [activeId] = await paymentIdsOfOrders(tx, [event.payload.orderId], { activeOnly: true });
  if (!activeId) return;
  const marked = await db(tx)
    .updateTable('payment')
    .set({ order_closed_at: dbNow() })
    .where('id', '=', activeId)
    .where('status', '=', 'PENDING')
    .where('order_closed_at', 'is', null)
    .returning('id')
    .execute();
  for (const { id } of marked) await audit(tx, id, 'ORDER_CLOSED', { reason: event.payload.reason, eventId: event.eventId });
}
