import { useState, type FormEvent } from 'react';
import { useQuery } from 'urql';
import { ErrorAlert, LoadMore, Loading, Money, ORDER_STATUSES, PageHeading, StatusBadge, shortId, useCursorPages, TableScroll } from '../components/ui';
import { ConsoleOrderDocument, ConsoleOrdersDocument, type OrderStatus } from '../gql/graphql';
import { useI18n } from '../i18n/i18n';
import { Link, matchPath, navigate, useLocation } from '../router';
import { NETWORK, useL } from './common';
import type { ScreenProps } from './ConsolePage';

function OrderRows({
  status,
  search,
  after,
  isLast,
  onLoadMore,
}: {
  status: OrderStatus | null;
  search: string;
  after: string | null;
  isLast: boolean;
  onLoadMore(c: string): void;
}) {
  const L = useL();
  const { dateTime } = useI18n();
  const [{ data, error }, refetch] = useQuery({ query: ConsoleOrdersDocument, variables: { first: 25, after, status, search: search || null } });
  if (error && !data)
    return (
      <tr>
        <td colSpan={6}>
          <ErrorAlert error={error} onRetry={() => refetch(NETWORK)} />
        </td>
      </tr>
    );
  if (!data)
    return (
      <tr>
        <td colSpan={6}>
          <Loading />
        </td>
      </tr>
    );
  return (
    <>
      {data.adminOrders.edges.length === 0 && after === null ? (
        <tr>
          <td colSpan={6} className="muted">
            {L('No orders match.', '没有符合条件的订单。')}
          </td>
        </tr>
      ) : null}
      {data.adminOrders.edges.map(({ node }) => (
        <tr key={node.id}>
          <th scope="row">
            <Link to={`/admin/orders/${node.id}`}>{shortId(node.id)}</Link>
          </th>
          <td>{node.userId}</td>
          <td>{dateTime(node.createdAt)}</td>
          <td className="small">{node.items.map((i) => `${i.qty} × ${i.sku.title}`).join(', ')}</td>
          <td>
            <Money value={node.payable} />
          </td>
          <td>
            <StatusBadge status={node.status} />
          </td>
        </tr>
      ))}
      {isLast && data.adminOrders.pageInfo.hasNextPage ? (
        <tr>
          <td colSpan={6}>
            <ul className="plain">
              <LoadMore pageInfo={data.adminOrders.pageInfo} onLoadMore={onLoadMore} />
            </ul>
          </td>
        </tr>
      ) : null}
    </>
  );
}

function OrderList({ title }: { title: string }) {
  const L = useL();
  const { t } = useI18n();
  const { query } = useLocation();
  const raw = query.get('status');
  const status = raw && (ORDER_STATUSES as readonly string[]).includes(raw) ? (raw as OrderStatus) : null;
  const search = query.get('q') ?? '';
  const [text, setText] = useState(search);
  const [cursors, loadMore] = useCursorPages(`${status}|${search}`);
  const go = (next: { status?: string | null; q?: string }) => {
    const params = new URLSearchParams();
    const s = next.status === undefined ? status : next.status;
    const q = next.q === undefined ? search : next.q;
    if (s) params.set('status', s);
    if (q) params.set('q', q);
    navigate(`/admin/orders${params.toString() ? `?${params}` : ''}`);
  };
  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    go({ q: text.trim() });
  };
  return (
    <section className="card">
      <PageHeading>{title}</PageHeading>
      <form className="row" role="search" onSubmit={onSearch}>
        <label className="grow">
          {L('Order number, order id or user id', '订单号、订单 ID 或用户 ID')}
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <label>
          {L('Status', '状态')}
          <select value={status ?? ''} onChange={(e) => go({ status: e.target.value || null })}>
            <option value="">{L('All', '全部')}</option>
            {ORDER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">{L('Search', '搜索')}</button>
      </form>
      <TableScroll>
        <table aria-label={title}>
          <thead>
            <tr>
              <th scope="col">{L('Order', '订单')}</th>
              <th scope="col">{L('Buyer', '买家')}</th>
              <th scope="col">{L('Placed', '下单时间')}</th>
              <th scope="col">{L('Items', '商品')}</th>
              <th scope="col">{L('Amount', '金额')}</th>
              <th scope="col">{L('Status', '状态')}</th>
            </tr>
          </thead>
          <tbody>
            {cursors.map((after, i) => (
              <OrderRows
                key={`${status}|${search}|${after ?? ''}`}
                status={status}
                search={search}
                after={after}
                isLast={i === cursors.length - 1}
                onLoadMore={loadMore}
              />
            ))}
          </tbody>
        </table>
      </TableScroll>
    </section>
  );
}

/** The facts of an audit row as "key: value" pairs (nulls left out; nested values as JSON). */
export function detailsText(json: string): string {
  try {
    const facts = JSON.parse(json) as Record<string, unknown>;
    return Object.entries(facts)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' · ');
  } catch {
    return json;
  }
}

function OrderDetail({ id }: { id: string }) {
  const L = useL();
  const { t, dateTime } = useI18n();
  const [{ data, error }, refetch] = useQuery({ query: ConsoleOrderDocument, variables: { id } });
  if (error && !data) return <ErrorAlert error={error} onRetry={() => refetch(NETWORK)} />;
  if (!data) return <Loading />;
  const order = data.order;
  if (!order) return <p>{L('No such order.', '订单不存在。')}</p>;
  return (
    <section className="card">
      <p>
        <Link to="/admin/orders">← {L('All orders', '全部订单')}</Link>
      </p>
      <PageHeading>{L(`Order ${shortId(order.id)}`, `订单 ${shortId(order.id)}`)}</PageHeading>
      <dl className="summary">
        <dt>ID</dt>
        <dd>{order.id}</dd>
        <dt>{L('Buyer', '买家')}</dt>
        <dd>{order.userId}</dd>
        <dt>{L('Status', '状态')}</dt>
        <dd>
          <StatusBadge status={order.status} /> {order.cancelReason ? `(${order.cancelReason})` : null}
        </dd>
        <dt>{L('Payable', '应付')}</dt>
        <dd>
          <Money value={order.payable} />
        </dd>
        <dt>{L('Payment', '支付')}</dt>
        <dd>{order.payment ? `${order.payment.status} · ${order.payment.paymentTxnId ?? '—'}` : '—'}</dd>
        <dt>{L('Ships to', '收货地址')}</dt>
        <dd>
          {order.shippingAddress
            ? `${order.shippingAddress.name}, ${order.shippingAddress.line1}, ${order.shippingAddress.city}, ${order.shippingAddress.country}`
            : '—'}
        </dd>
        <dt>{L('Shipments', '发货')}</dt>
        <dd>
          {order.shipments.length
            ? order.shipments.map((s) => `${s.warehouseId}: ${s.status}${s.trackingNumber ? ` (${s.trackingNumber})` : ''}`).join('; ')
            : '—'}
        </dd>
        <dt>{L('Refunds', '退款')}</dt>
        <dd>{order.refunds.length ? order.refunds.map((r) => `${r.status} · ${r.reason}`).join('; ') : '—'}</dd>
      </dl>
      <h2>{L('Audit trail', '审计记录')}</h2>
      <TableScroll>
        <table aria-label={L('Audit trail', '审计记录')}>
          <thead>
            <tr>
              <th scope="col">{L('When', '时间')}</th>
              <th scope="col">{L('Event', '事件')}</th>
              <th scope="col">{L('From → to', '状态变化')}</th>
              <th scope="col">{L('Version', '版本')}</th>
              <th scope="col">{L('Details', '详情')}</th>
            </tr>
          </thead>
          <tbody>
            {order.events.map((e) => (
              <tr key={e.id}>
                <td>{dateTime(e.at)}</td>
                <td>{e.type}</td>
                <td>
                  {e.fromStatus ? t(`status.${e.fromStatus}` as never) : '—'} → {t(`status.${e.toStatus}` as never)}
                </td>
                <td>{e.version}</td>
                <td className="small">{detailsText(e.details)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </section>
  );
}

export function OrdersScreen({ path, title }: ScreenProps) {
  const params = matchPath('/admin/orders/:id', path);
  return params ? <OrderDetail id={params.id!} /> : <OrderList title={title} />;
}
