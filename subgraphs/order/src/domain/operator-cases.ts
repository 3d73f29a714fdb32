import type { MikroORM } from '@mikro-orm/postgresql';
import { computedGauge, sql } from '@shop/kit';

/**
 * Operator cases of the order subgraph (README "Operator cases"), each a state in the ordering
 * schema with a gauge that an alert rule watches (infra/monitoring/alerts.yml):
 * - refund_failed_open: orders whose last refund request FAILED at the provider (its waiting
 *   parcels were stopped, the money is not back);
 * - risk_review_backlog / risk_review_oldest_seconds: orders waiting in REVIEW for an admin.
 */
let source: MikroORM | undefined;
export const watchOperatorCases = (orm: MikroORM): void => {
  source = orm;
};
const number = async (query: string): Promise<number> => {
  if (!source) return 0;
  const row = await sql(source.em.fork()).one<{ n: string | null }>(query);
  return Number(row?.n ?? 0);
};
computedGauge('refund_failed_open', 'orders whose latest refund request failed at the payment provider', () =>
  number(
    `SELECT count(*) AS n FROM (SELECT DISTINCT ON (order_id) status FROM refund_request ORDER BY order_id, created_at DESC) last WHERE status = 'FAILED'`,
  ),
);
computedGauge('risk_review_backlog', 'orders waiting in REVIEW for a risk decision', () => number(`SELECT count(*) AS n FROM orders WHERE status = 'REVIEW'`));
computedGauge('risk_review_oldest_seconds', 'how long the oldest order in REVIEW has waited, seconds', () =>
  number(`SELECT coalesce(extract(epoch FROM now() - min(updated_at)), 0) AS n FROM orders WHERE status = 'REVIEW'`),
);
