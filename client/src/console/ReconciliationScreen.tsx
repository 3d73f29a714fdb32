import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { ErrorAlert, Money, PageHeading, TableScroll } from '../components/ui';
import { ReconcilePaymentsDocument } from '../gql/graphql';
import { useL } from './common';
import type { ScreenProps } from './ConsolePage';

/** What each difference means and what an operator does about it. */
const KINDS: Record<string, { en: string; zh: string }> = {
  AMOUNT_MISMATCH: {
    en: 'The provider charged another amount or currency: refund the difference at the provider.',
    zh: '渠道金额或币种不一致：在渠道侧退还差额。',
  },
  REFUNDED_AT_PROVIDER_ONLY: {
    en: 'Refunded at the provider but not here: check the order and record the refund.',
    zh: '渠道已退款但本系统未记录：核对订单并补记退款。',
  },
  SUCCEEDED_HERE_ONLY: {
    en: 'Paid here but not captured at the provider: ask the provider, refund or cancel.',
    zh: '本系统已支付但渠道未扣款：联系渠道，退款或取消。',
  },
  UNKNOWN_PAYMENT: { en: 'The provider has a payment we do not know: refund it at the provider.', zh: '渠道存在未知支付：在渠道侧退款。' },
  REPAIR_FAILED: { en: 'Replaying the provider’s result did not fix it: look at the payment’s callbacks.', zh: '重放渠道结果未能修复：检查该支付的回调记录。' },
};

const isoLocal = (d: Date): string => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

/** Runs reconciliation over a window: repairs what it can (replaying dropped callbacks) and lists the rest with their kind. */
export function ReconciliationScreen({ title }: ScreenProps) {
  const L = useL();
  const now = new Date();
  const [from, setFrom] = useState(isoLocal(new Date(now.getTime() - 86_400_000)));
  const [to, setTo] = useState(isoLocal(new Date(now.getTime() + 60_000)));
  const [result, reconcile] = useMutation(ReconcilePaymentsDocument);
  const onRun = (e: FormEvent) => {
    e.preventDefault();
    void reconcile({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
  };
  const report = result.data?.reconcilePayments;
  return (
    <section className="card">
      <PageHeading>{title}</PageHeading>
      <form className="row" onSubmit={onRun}>
        <label>
          {L('From', '开始')}
          <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} required />
        </label>
        <label>
          {L('To', '结束')}
          <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} required />
        </label>
        <button type="submit" className="primary" disabled={result.fetching}>
          {result.fetching ? L('Reconciling…', '对账中…') : L('Reconcile', '开始对账')}
        </button>
      </form>
      <ErrorAlert error={result.error} onRetry={() => void reconcile({ from: new Date(from).toISOString(), to: new Date(to).toISOString() })} />
      {report ? (
        <div role="status">
          <p>
            {L(
              `${report.providerTransactions} provider transactions · ${report.repaired.length} repaired · ${report.diffs.length} differences left`,
              `渠道交易 ${report.providerTransactions} 笔 · 已修复 ${report.repaired.length} 笔 · 剩余差异 ${report.diffs.length} 笔`,
            )}
          </p>
          {report.repaired.length > 0 ? (
            <>
              <h2>{L('Repaired', '已修复')}</h2>
              <ul>
                {report.repaired.map((r) => (
                  <li key={`${r.paymentId}:${r.status}`}>
                    {r.paymentId} → {r.status} ({r.outcome})
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {report.diffs.length > 0 ? (
            <TableScroll>
              <table aria-label={L('Differences', '差异')}>
                <thead>
                  <tr>
                    <th scope="col">{L('Kind', '类型')}</th>
                    <th scope="col">{L('Payment', '支付')}</th>
                    <th scope="col">{L('Provider', '渠道')}</th>
                    <th scope="col">{L('Ours', '本系统')}</th>
                    <th scope="col">{L('What to do', '处理')}</th>
                  </tr>
                </thead>
                <tbody>
                  {report.diffs.map((d, i) => (
                    <tr key={`${d.paymentId}:${i}`}>
                      <td>{d.kind}</td>
                      <td>
                        {d.paymentId}
                        <div className="muted small">{d.paymentTxnId ?? ''}</div>
                      </td>
                      <td>
                        {d.providerStatus ?? '—'} {d.providerAmount ? <Money value={d.providerAmount} /> : null}
                      </td>
                      <td>
                        {d.ourStatus ?? '—'} {d.ourAmount ? <Money value={d.ourAmount} /> : null}
                      </td>
                      <td className="small">{KINDS[d.kind] ? L(KINDS[d.kind]!.en, KINDS[d.kind]!.zh) : (d.detail ?? '')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          ) : (
            <p className="ok">{L('No differences.', '没有差异。')}</p>
          )}
        </div>
      ) : null}
    </section>
  );
}
