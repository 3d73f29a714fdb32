import { useQuery } from 'urql';
import { ErrorAlert, Loading, PageHeading, usePolling } from '../components/ui';
import { ConsoleMetricsDocument } from '../gql/graphql';
import { useI18n } from '../i18n/i18n';
import { Link } from '../router';
import { Figure, NETWORK, useL } from './common';
import type { ScreenProps } from './ConsolePage';

/** seed-design §12's metrics with their alert thresholds: a figure past its threshold is highlighted. */
const METRICS: Record<string, { en: string; zh: string; format: 'rate' | 'ms' | 'sec' | 'count' | 'qps'; alert(v: number): boolean }> = {
  order_create_qps: { en: 'Orders per second', zh: '下单 QPS', format: 'qps', alert: () => false },
  order_create_p95_ms: { en: 'Order placement p95', zh: '下单 p95', format: 'ms', alert: (v) => v > 300 },
  order_fail_rate: { en: 'Order failure rate', zh: '下单失败率', format: 'rate', alert: (v) => v > 0.05 },
  oversell_count: { en: 'Oversold stock rows', zh: '超卖数', format: 'count', alert: (v) => v > 0 },
  reserve_success_rate: { en: 'Reservation success', zh: '预占成功率', format: 'rate', alert: (v) => v < 0.99 },
  stock_release_lag_sec: { en: 'Stock release lag p95', zh: '库存释放延迟 p95', format: 'sec', alert: () => false },
  payment_callback_delay_p95: { en: 'Payment callback delay p95', zh: '支付回调延迟 p95', format: 'sec', alert: (v) => v > 60 },
  saga_compensation_count: { en: 'Saga compensations', zh: 'Saga 补偿次数', format: 'count', alert: () => false },
  reconciliation_diff_count: { en: 'Reconciliation differences', zh: '对账差异', format: 'count', alert: (v) => v > 0 },
};

export function OverviewScreen({ title }: ScreenProps) {
  const L = useL();
  const { number } = useI18n();
  const [{ data, error }, refetch] = useQuery({ query: ConsoleMetricsDocument });
  usePolling(() => refetch(NETWORK), 10_000);
  const format = (kind: string, v: number): string => {
    switch (kind) {
      case 'rate':
        return number(v, { style: 'percent', maximumFractionDigits: 1 });
      case 'ms':
        return `${number(Math.round(v))} ms`;
      case 'sec':
        return `${number(v, { maximumFractionDigits: 1 })} s`;
      case 'qps':
        return number(v, { maximumFractionDigits: 2 });
      default:
        return number(v);
    }
  };
  const metrics = data ? [...data.orderMetrics, ...data.inventoryMetrics, ...data.paymentMetrics] : [];
  const dlq = data?.deadLetterQueues.reduce((n, q) => n + (q.messages ?? 0), 0) ?? 0;
  return (
    <section className="card">
      <PageHeading>{title}</PageHeading>
      <ErrorAlert error={error} onRetry={() => refetch(NETWORK)} />
      {error ? <p className="muted">{L('This area is for the people who run the shop.', '此区域仅供商城运营人员使用。')}</p> : null}
      {!data && !error ? <Loading /> : null}
      {data ? (
        <>
          <div className="figures" aria-label={L('Key metrics', '关键指标')} role="group">
            {metrics.map((m) => {
              const meta = METRICS[m.name];
              return (
                <Figure
                  key={m.name}
                  label={meta ? L(meta.en, meta.zh) : m.name}
                  value={format(meta?.format ?? 'count', m.value)}
                  hint={`${m.name}: ${m.help}`}
                  alert={meta?.alert(m.value) ?? false}
                />
              );
            })}
            <Figure label={L('Dead letters waiting', '待处理死信')} value={number(dlq)} alert={dlq > 0} hint="dlq_backlog" />
          </div>
          <ul className="stack">
            <li>
              <Link to="/admin/refunds">{L(`${data.refundRequests.length} refunds waiting for approval`, `${data.refundRequests.length} 笔退款待审批`)}</Link>
            </li>
            <li>
              <Link to="/admin/dead-letters">{L(`${dlq} dead letters`, `${dlq} 条死信`)}</Link>
            </li>
          </ul>
          <p className="muted small">
            {L('Figures of the process that answered; Prometheus has every process.', '数据来自响应的进程；完整数据见 Prometheus。')}
          </p>
        </>
      ) : null}
    </section>
  );
}
