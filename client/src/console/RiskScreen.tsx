import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { ErrorAlert, Loading, Money, PageHeading, shortId } from '../components/ui';
import { useI18n } from '../i18n/i18n';
import { Link } from '../router';
import { NETWORK, useL } from './common';
import type { ScreenProps } from './ConsolePage';
import { ResolveRiskReviewDocument, RiskReviewQueueDocument, type RiskReviewQueueQuery } from '../gql/graphql';

type RiskOrder = RiskReviewQueueQuery['riskReviewQueue']['edges'][number]['node'];

function RiskItem({ order, onDone }: { order: RiskOrder; onDone(): void }) {
  const L = useL();
  const { dateTime } = useI18n();
  const [note, setNote] = useState('');
  const [result, resolve] = useMutation(ResolveRiskReviewDocument);
  const decide = (approve: boolean) =>
    void resolve({ orderId: order.id, approve, note: note.trim() || null }, { additionalTypenames: ['Order'] }).then((res) => {
      if (!res.error) onDone();
    });
  const no = shortId(order.id);
  return (
    <li className="queue-item" aria-label={L(`Order ${no} in review`, `待审核订单 ${no}`)}>
      <div className="grow">
        <strong>
          <Link to={`/admin/orders/${order.id}`}>{L(`Order ${no}`, `订单 ${no}`)}</Link>
        </strong>{' '}
        · {order.userId} · <Money value={order.payable} />
        <div className="muted small">
          {dateTime(order.createdAt)} · {order.items.map((i) => `${i.qty} × ${i.sku.product.title} — ${i.sku.title}`).join(', ')}
        </div>
        <label>
          {L('Note (kept in the audit trail)', '备注（记入审计）')}
          <input value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} />
        </label>
        <ErrorAlert error={result.error} />
      </div>
      <div className="row">
        <button type="button" className="primary" disabled={result.fetching} onClick={() => decide(true)}>
          {L('Approve', '通过')}
        </button>
        <button type="button" className="danger" disabled={result.fetching} onClick={() => decide(false)}>
          {L('Reject', '拒绝')}
        </button>
      </div>
    </li>
  );
}

/** Orders risk control flagged REVIEW wait here: approving lets them go on to payment, rejecting cancels them. */
export function RiskScreen({ title }: ScreenProps) {
  const L = useL();
  const [{ data, error }, refetch] = useQuery({ query: RiskReviewQueueDocument, variables: { first: 50 } });
  return (
    <section className="card">
      <PageHeading>{title}</PageHeading>
      <ErrorAlert error={error} onRetry={() => refetch(NETWORK)} />
      {!data && !error ? <Loading /> : null}
      {data && data.riskReviewQueue.edges.length === 0 ? <p className="muted">{L('No order is waiting for review.', '没有待审核的订单。')}</p> : null}
      {data ? (
        <ul className="queue" aria-label={L('Orders waiting for review', '待审核订单')}>
          {data.riskReviewQueue.edges.map(({ node }) => (
            <RiskItem key={node.id} order={node} onDone={() => refetch(NETWORK)} />
          ))}
        </ul>
      ) : null}
    </section>
  );
}
