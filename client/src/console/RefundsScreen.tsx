import { useMutation, useQuery } from 'urql';
import { ErrorAlert, Loading, Money, PageHeading, shortId } from '../components/ui';
import { ApproveRefundDocument, ConsoleRefundsDocument } from '../gql/graphql';
import { useI18n } from '../i18n/i18n';
import { Link } from '../router';
import { NETWORK, useL } from './common';
import type { ScreenProps } from './ConsolePage';

type RefundRow = NonNullable<ReturnType<typeof useRefunds>[0]['data']>['refundRequests'][number];
const useRefunds = () => useQuery({ query: ConsoleRefundsDocument, variables: { status: 'PENDING_APPROVAL' } });

function RefundItem({ refund, onDone }: { refund: RefundRow; onDone(): void }) {
  const L = useL();
  const { dateTime } = useI18n();
  const [result, approve] = useMutation(ApproveRefundDocument);
  const orderNo = refund.order ? shortId(refund.order.id) : '';
  return (
    <li className="queue-item" aria-label={L(`Refund of order ${orderNo}`, `订单 ${orderNo} 的退款`)}>
      <div className="grow">
        <strong>
          <Money value={refund.amount} />
        </strong>{' '}
        · {refund.order ? <Link to={`/admin/orders/${refund.order.id}`}>{L(`Order ${orderNo}`, `订单 ${orderNo}`)}</Link> : null} · {refund.order?.userId}
        <div className="muted small">
          {dateTime(refund.createdAt)} · {L('reason', '原因')}: {refund.reason} ·{' '}
          {refund.restock ? L('stock returns', '库存退回') : L('shipped: stock stays sold', '已发货：库存不退回')}
        </div>
        <ErrorAlert error={result.error} />
      </div>
      <button
        type="button"
        className="primary"
        disabled={result.fetching}
        onClick={() =>
          void approve({ refundId: refund.id }).then((res) => {
            if (!res.error) onDone();
          })
        }
      >
        {L('Approve refund', '批准退款')}
      </button>
    </li>
  );
}

/** Refunds of shipped orders wait for an operator; approving sends them to the payment provider. */
export function RefundsScreen({ title }: ScreenProps) {
  const L = useL();
  const [{ data, error }, refetch] = useRefunds();
  return (
    <section className="card">
      <PageHeading>{title}</PageHeading>
      <ErrorAlert error={error} onRetry={() => refetch(NETWORK)} />
      {!data && !error ? <Loading /> : null}
      {data && data.refundRequests.length === 0 ? <p className="muted">{L('No refund is waiting for approval.', '没有待审批的退款。')}</p> : null}
      {data ? (
        <ul className="queue" aria-label={L('Refunds waiting for approval', '待审批退款')}>
          {data.refundRequests.map((r) => (
            <RefundItem key={r.id} refund={r} onDone={() => refetch(NETWORK)} />
          ))}
        </ul>
      ) : null}
    </section>
  );
}
