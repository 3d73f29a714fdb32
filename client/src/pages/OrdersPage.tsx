import { useMemo } from 'react';
import { useQuery } from 'urql';
import { OrdersDocument, type OrderStatus } from '../gql/graphql';
import { ErrorAlert, LoadMore, Loading, Money, RequireSignIn, STATUS_LABEL, StatusBadge, formatDateTime, shortId, useCursorPages } from '../components/ui';
import { Link, navigate, useLocation } from '../router';

const PAGE_SIZE = 20;
const STATUSES = Object.keys(STATUS_LABEL) as OrderStatus[];
const isStatus = (value: string | null): value is OrderStatus => value !== null && (STATUSES as string[]).includes(value);

function OrdersPageRows({
  status,
  after,
  isLast,
  onLoadMore,
}: {
  status: OrderStatus | null;
  after: string | null;
  isLast: boolean;
  onLoadMore(cursor: string): void;
}) {
  const context = useMemo(() => ({ additionalTypenames: ['Order'] }), []);
  const [{ data, fetching, error }] = useQuery({ query: OrdersDocument, variables: { first: PAGE_SIZE, after, status }, context });
  if (error)
    return (
      <li>
        <ErrorAlert error={error} />
      </li>
    );
  if (!data)
    return fetching ? (
      <li>
        <Loading />
      </li>
    ) : null;
  const { edges, pageInfo } = data.orders;
  return (
    <>
      {edges.length === 0 && after === null ? <li className="muted">No orders yet.</li> : null}
      {edges.map(({ node }) => (
        <li key={node.id} className="order-row" aria-label={`Order ${shortId(node.id)}`}>
          <Link to={`/orders/${node.id}`}>Order {shortId(node.id)}</Link>
          <span className="muted small">{formatDateTime(node.createdAt)}</span>
          <span className="muted small grow">{node.items.map((i) => `${i.qty} × ${i.sku.title}`).join(', ')}</span>
          <Money value={node.payable} />
          <StatusBadge status={node.status} />
        </li>
      ))}
      {isLast ? <LoadMore pageInfo={pageInfo} onLoadMore={onLoadMore} /> : null}
    </>
  );
}

function Orders() {
  const { query } = useLocation();
  const raw = query.get('status');
  const status = isStatus(raw) ? raw : null;
  const [cursors, loadMore] = useCursorPages(status);

  return (
    <section className="card">
      <h1>Your orders</h1>
      <label>
        Filter by status{' '}
        <select value={status ?? ''} onChange={(e) => navigate(e.target.value ? `/orders?status=${e.target.value}` : '/orders')}>
          <option value="">All orders</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_LABEL[s]}
            </option>
          ))}
        </select>
      </label>
      <ul className="order-list" aria-label="Orders">
        {cursors.map((after, index) => (
          <OrdersPageRows key={`${status ?? ''}:${after ?? ''}`} status={status} after={after} isLast={index === cursors.length - 1} onLoadMore={loadMore} />
        ))}
      </ul>
    </section>
  );
}

export function OrdersPage() {
  return (
    <RequireSignIn>
      <Orders />
    </RequireSignIn>
  );
}
