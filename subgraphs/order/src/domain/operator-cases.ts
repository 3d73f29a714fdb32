import type { MikroORM } from '@mikro-orm/postgresql';
import { computedGauge, sql } from '@shop/kit';
import { db } from '../persistence.js';

/**
 * Operator cases of the order subgraph (README "Operator cases"), each a state in the ordering
 * schema with a gauge that an alert rule watches (infra/monitoring/alerts.yml):
 * - refund_failed_open: orders whose last refund request FAILED at the provider (its waiting
 *   parcels were stopped, the money is not back);
 * - risk_review_backlog / risk_review_oldest_seconds: orders waiting in REVIEW for an admin;
 * - order_partitions_ahead_seconds: how far ahead the partitions of orders reach (partitions.ts).
 */
let source: MikroORM | undefined;
export const watchOperatorCases = (orm: MikroORM): void => {
  source = orm;
};
type Queries = ReturnType<typeof db>;
/** The number a typed query of one row `{ n }` answers (0 before the ORM is watched). */
const number = async (query: (q: Queries) => { executeTakeFirst(): Promise<{ n: string | number | null } | undefined> }): Promise<number> => {
  if (!source) return 0;
  const row = await query(db(source.em.fork())).executeTakeFirst();
  return Number(row?.n ?? 0);
};
const inReview = (q: Queries) => q.selectFrom('orders').where('status', '=', 'REVIEW');
computedGauge('refund_failed_open', 'orders whose latest refund request failed at the payment provider', () =>
  number((q) =>
    q
      .selectFrom((s) => s.selectFrom('refund_request').distinctOn('order_id').select('status').orderBy('order_id').orderBy('created_at', 'desc').as('last'))
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('last.status', '=', 'FAILED'),
  ),
);
computedGauge('risk_review_backlog', 'orders waiting in REVIEW for a risk decision', () =>
  number((q) => inReview(q).select((eb) => eb.fn.countAll<string>().as('n'))),
);
computedGauge('risk_review_oldest_seconds', 'how long the oldest order in REVIEW has waited, seconds', () =>
  number((q) => inReview(q).select(sql<string>`coalesce(extract(epoch FROM now() - min(updated_at)), 0)`.as('n'))),
);
computedGauge('order_partitions_ahead_seconds', 'how far ahead of now the last partition of ordering.orders reaches, seconds (partitions.ts)', () =>
  number((q) => q.selectNoFrom(sql<string>`coalesce(extract(epoch FROM order_partitions_end() - now()), 0)`.as('n'))),
);
