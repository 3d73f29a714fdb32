import { useMemo } from 'react';
import { useQuery } from 'urql';
import { OrdersDocument, type OrderStatus } from '../gql/graphql';
import { ErrorAlert, LoadMore, Loading, Money, ORDER_STATUSES, PageHeading, RequireSignIn, StatusBadge, shortId, useCursorPages } from '../components/ui';
import { useI18n } from '../i18n/i18n';
import { Link, navigate, useLocation } from '../router';

const PAGE_SIZE = 20;
const isStatus = (value: string | null): value is OrderStatus => value !== null && (ORDER_STATUSES as readonly string[]).includes(value);

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
  const { t, dateTime } = useI18n();
  const context = useMemo(() => ({ additionalTypenames: ['Order'] }), []);
  const [{ data, fetching, error }, refetch] = useQuery({ query: OrdersDocument, variables: { first: PAGE_SIZE, after, status }, context });
  if (error && !data)
    return (
      <li>
        <ErrorAlert error={error} onRetry={() => refetch({ requestPolicy: 'network-only' })} />
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
      {edges.length === 0 && after === null ? <li className="muted">{t('orders.none')}</li> : null}
      {edges.map(({ node }) => (
        <li key={node.id} className="order-row" aria-label={t('orders.order', { number: shortId(node.id) })}>
          <Link to={`/orders/${node.id}`}>{t('orders.order', { number: shortId(node.id) })}</Link>
          <span className="muted small">{dateTime(node.createdAt)}</span>
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
  const { t } = useI18n();
  const { query } = useLocation();
  const raw = query.get('status');
  const status = isStatus(raw) ? raw : null;
  const [cursors, loadMore] = useCursorPages(status);

  return (
    <section className="card">
      <PageHeading>{t('orders.title')}</PageHeading>
      <label>
        {t('orders.filter')}{' '}
        <select value={status ?? ''} onChange={(e) => navigate(e.target.value ? `/orders?status=${e.target.value}` : '/orders')}>
          <option value="">{t('orders.all')}</option>
          {ORDER_STATUSES.map((s) => (
            <option key={s} value={s}>
              {t(`status.${s}`)}
            </option>
          ))}
        </select>
      </label>
      <ul className="order-list" aria-label={t('nav.orders')}>
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
