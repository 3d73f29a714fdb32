import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  CancelOrderDocument,
  OrderDocument,
  OrderStatusChangedDocument,
  PayOrderDocument,
  RequestRefundDocument,
  type OrderFieldsFragment,
} from '../gql/graphql';
import { ErrorAlert, Loading, Money, PageHeading, ProductImage, RequireSignIn, StatusBadge, shortId, usePolling, TableScroll } from '../components/ui';
import { SOCKET_CONNECTED, socketEvents } from '../graphql-client';
import { useI18n } from '../i18n/i18n';
import type { MessageKey } from '../i18n/messages';
import { Link, useLocation } from '../router';

/** While a payment is being made at the provider, how often the page reads the order again (a failed payment changes no order status, so nothing is pushed). */
const PAYMENT_POLL_MS = 2500;

/** The label of the amount line: what is still to pay, what was paid, or what was refunded. */
export function amountLabelKey(status: string): MessageKey {
  switch (status) {
    case 'CREATED':
    case 'REVIEW':
    case 'PENDING_PAYMENT':
      return 'order.toPay';
    case 'PAID':
    case 'SHIPPED':
    case 'COMPLETED':
      return 'order.paid';
    case 'REFUNDED':
      return 'order.refunded';
    default:
      return 'order.total';
  }
}

/** Statuses the shopper may still cancel in (cancelOrder: not paid yet; the order state machine allows CANCELED from each). */
const CANCELABLE: readonly string[] = ['CREATED', 'REVIEW', 'PENDING_PAYMENT'];

/** Pay: opens the payment provider's checkout page; the status changes here live when the payment lands. */
function PayButton({ orderId, again, onStarted }: { orderId: string; again: boolean; onStarted(): void }) {
  const { t } = useI18n();
  const [result, payOrder] = useMutation(PayOrderDocument);
  const [paymentUrl, setPaymentUrl] = useState<string | null>(null);
  // A failed payment closes that attempt: the note about its open tab no longer holds.
  useEffect(() => {
    if (again) setPaymentUrl(null);
  }, [again]);

  const onPay = async () => {
    // Opened during the click, so popup blockers allow it; pointed at the provider once we know the URL.
    const tab = window.open('', '_blank');
    const res = await payOrder({ orderId });
    if (!res.data) {
      tab?.close();
      return;
    }
    const url = res.data.payOrder.redirectUrl;
    setPaymentUrl(url);
    onStarted();
    if (tab) {
      tab.opener = null;
      tab.location.href = url;
    } else {
      window.location.assign(url);
    }
  };

  return (
    <div className="stack">
      <button type="button" className="primary" disabled={result.fetching} onClick={() => void onPay()}>
        {again ? t('order.payAgain') : t('order.pay')}
      </button>
      {paymentUrl ? (
        <p className="muted small">
          {t('order.paymentOpened')}{' '}
          <a href={paymentUrl} target="_blank" rel="noreferrer">
            {t('order.paymentOpenAgain')}
          </a>
        </p>
      ) : null}
      <ErrorAlert error={result.error} onRetry={() => void onPay()} />
    </div>
  );
}

function CancelButton({ orderId }: { orderId: string }) {
  const { t } = useI18n();
  const [result, cancelOrder] = useMutation(CancelOrderDocument);
  const [confirming, setConfirming] = useState(false);
  return (
    <div className="stack">
      {confirming ? (
        <div className="row" role="group" aria-label={t('order.confirmCancellation')}>
          <span>{t('order.cancelConfirm')}</span>
          <button
            type="button"
            className="danger"
            disabled={result.fetching}
            onClick={() => {
              setConfirming(false);
              void cancelOrder({ orderId });
            }}
          >
            {t('order.cancelYes')}
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            {t('order.cancelKeep')}
          </button>
        </div>
      ) : (
        <button type="button" className="secondary" disabled={result.fetching} onClick={() => setConfirming(true)}>
          {t('order.cancel')}
        </button>
      )}
      <ErrorAlert error={result.error} />
    </div>
  );
}

function RefundForm({ orderId }: { orderId: string }) {
  const { t, money } = useI18n();
  const [reason, setReason] = useState('');
  const [result, requestRefund] = useMutation(RequestRefundDocument);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (reason.trim()) void requestRefund({ orderId, reason: reason.trim() }, { additionalTypenames: ['Order', 'Refund'] });
  };
  if (result.data) {
    return (
      <p role="status" className="ok">
        {t('order.refundRequested', { amount: money(result.data.requestRefund.amount) })}
      </p>
    );
  }
  return (
    <form className="stack" onSubmit={onSubmit} aria-label={t('order.refundRequest')}>
      <label>
        {t('order.refundReason')}
        <textarea value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} rows={2} />
      </label>
      <button type="submit" className="secondary" disabled={!reason.trim() || result.fetching}>
        {t('order.refundRequest')}
      </button>
      <ErrorAlert error={result.error} />
    </form>
  );
}

function RefundState({ order }: { order: OrderFieldsFragment }) {
  const { t, money } = useI18n();
  const live = order.refunds.find((r) => ['PENDING_APPROVAL', 'REQUESTED', 'SUCCEEDED'].includes(r.status));
  if (!live) return order.status === 'PAID' || order.status === 'SHIPPED' ? <RefundForm orderId={order.id} /> : null;
  const amount = money(live.amount);
  const key: MessageKey =
    live.status === 'PENDING_APPROVAL' ? 'order.refundPending' : live.status === 'REQUESTED' ? 'order.refundInProgress' : 'order.refundDone';
  return (
    <p role="status" className="ok" data-testid="refund-state">
      {t(key, { amount })}
    </p>
  );
}

function warehouseName(t: ReturnType<typeof useI18n>['t'], id: string): string {
  const key = `warehouse.${id}` as MessageKey;
  const name = t(key);
  return name === key ? t('warehouse.other', { id }) : name;
}

function OrderView({ order, live, placed, onPaymentStarted }: { order: OrderFieldsFragment; live: boolean; placed: boolean; onPaymentStarted(): void }) {
  const { t, dateTime } = useI18n();
  const number = shortId(order.id);
  const paymentFailed = order.status === 'PENDING_PAYMENT' && order.payment?.status === 'FAILED';
  const address = order.shippingAddress;
  return (
    <section className="card">
      <p>
        <Link to="/orders">{t('order.back')}</Link>
      </p>
      {placed && CANCELABLE.includes(order.status) ? (
        <div className="confirmation" role="status">
          <strong>{t('order.confirmation', { number })}</strong>
          {/* An order held for review gets a fresh payment window when approved: no deadline to show yet. */}
          {order.status === 'REVIEW' ? null : <div>{t('order.confirmationPay', { time: dateTime(order.expireAt) })}</div>}
        </div>
      ) : null}
      <PageHeading title={t('order.title', { number })}>{t('order.title', { number })}</PageHeading>
      <p className="muted small">
        {order.id} · {t('order.placedAt', { time: dateTime(order.createdAt) })}
      </p>
      {order.status === 'REVIEW' ? (
        <p role="status" className="notice" data-testid="order-in-review">
          {t('order.inReview')}
        </p>
      ) : null}
      {paymentFailed ? (
        <p role="alert" className="alert" data-testid="payment-failed">
          {t('order.paymentFailed', { time: dateTime(order.expireAt) })}
        </p>
      ) : null}
      <dl className="summary">
        <dt>{t('order.status')}</dt>
        <dd>
          <span role="status" aria-label="Order status" aria-live="polite" data-status={order.status}>
            <StatusBadge status={order.status} />
          </span>
          {order.cancelReason ? <span className="muted"> ({t(`cancel.${order.cancelReason}`)})</span> : null}
          {order.status === 'PENDING_PAYMENT' && order.payment?.status === 'PENDING' ? <span className="muted"> · {t('order.paymentProcessing')}</span> : null}
        </dd>
        {order.status === 'PENDING_PAYMENT' ? (
          <>
            <dt>{t('order.payBefore')}</dt>
            <dd>{dateTime(order.expireAt)}</dd>
          </>
        ) : null}
        <dt>{t('order.items')}</dt>
        <dd>
          <Money value={order.total} />
        </dd>
        <dt>{t('order.discount')}</dt>
        <dd>
          {order.discount.amount > 0 ? '−' : ''}
          <Money value={order.discount} />
        </dd>
        <dt>{t('order.shipping')}</dt>
        <dd>
          <Money value={order.shippingFee} />
        </dd>
        <dt className="payable" data-testid="order-payable-label">
          {t(amountLabelKey(order.status))}
        </dt>
        <dd className="payable" data-testid="order-payable">
          <Money value={order.payable} />
        </dd>
      </dl>
      <p className="muted small" aria-live="polite">
        {live ? t('common.liveUpdates') : t('common.liveUnavailable')}
      </p>

      <div className="row actions">
        {order.status === 'PENDING_PAYMENT' ? <PayButton orderId={order.id} again={paymentFailed} onStarted={onPaymentStarted} /> : null}
        {CANCELABLE.includes(order.status) ? <CancelButton orderId={order.id} /> : null}
      </div>
      <RefundState order={order} />

      {address ? (
        <>
          <h2>{t('order.shipTo')}</h2>
          <address data-testid="ship-to">
            {address.name} · {address.phone}
            <br />
            {address.line1}, {address.city}, {t(`address.country.${address.country}` as MessageKey)}
          </address>
        </>
      ) : null}

      <h2>{t('order.itemsHeading')}</h2>
      <TableScroll>
        <table aria-label={t('order.itemsHeading')}>
          <thead>
            <tr>
              <th scope="col">{t('order.item')}</th>
              <th scope="col">{t('order.quantity')}</th>
              <th scope="col">{t('order.unitPrice')}</th>
            </tr>
          </thead>
          <tbody>
            {order.items.map((item) => (
              <tr key={item.sku.id}>
                <th scope="row">
                  <div className="row cart-item">
                    <ProductImage images={item.sku.product.images} title={item.sku.product.title} className="thumb" />
                    <Link to={`/products/${item.sku.product.id}`}>
                      {item.sku.product.title} — {item.sku.title}
                    </Link>
                  </div>
                </th>
                <td>{item.qty}</td>
                <td>
                  <Money value={item.unitPrice} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>

      <h2>{t('order.payment')}</h2>
      {order.payment ? (
        <p aria-label={t('order.payment')} data-payment-status={order.payment.status}>
          {t(`payment.${order.payment.status}` as MessageKey)} · <Money value={order.payment.amount} />
          {order.payment.paymentTxnId ? <span className="muted small"> · {t('order.transaction', { id: order.payment.paymentTxnId })}</span> : null}
        </p>
      ) : (
        <p className="muted">{t('order.noPayment')}</p>
      )}

      <h2>{t('order.shipments')}</h2>
      {order.shipments.length === 0 ? (
        <p className="muted">{order.status === 'PAID' ? t('order.preparing') : t('order.nothingShipped')}</p>
      ) : (
        <ul aria-label={t('order.shipments')} className="stack">
          {order.shipments.map((s) => (
            <li key={s.id}>
              {t('order.shipmentFrom', { status: t(`shipment.${s.status}` as MessageKey), warehouse: warehouseName(t, s.warehouseId) })}
              {s.trackingNumber ? <> · {t('order.tracking', { number: s.trackingNumber })}</> : null}
              <div className="muted small">{s.items.map((i) => `${i.qty} × ${i.sku.title}`).join(', ')}</div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * The order, live: the query loads it, the orderStatusChanged subscription pushes every status
 * change, and each (re)connection of the socket refetches it once, so a change made while the
 * socket was down is not missed. While a payment is under way (or the socket is down) the page
 * also reads the order every few seconds: a failed payment changes no order status, so it is not
 * pushed. Whichever copy has the higher version is shown.
 */
function LiveOrder({ id }: { id: string }) {
  const { t } = useI18n();
  const { query: params } = useLocation();
  const [query, refetch] = useQuery({ query: OrderDocument, variables: { id } });
  const [pushed] = useSubscription({ query: OrderStatusChangedDocument, variables: { orderId: id } }, (_previous, data) => data);
  const [paying, setPaying] = useState(false);

  useEffect(() => {
    const onConnected = () => refetch({ requestPolicy: 'network-only' });
    socketEvents.addEventListener(SOCKET_CONNECTED, onConnected);
    return () => socketEvents.removeEventListener(SOCKET_CONNECTED, onConnected);
  }, [refetch]);

  // Fields of other subgraphs (payment, shipments) may settle a moment after the status: refetch once per push.
  const pushedOrder = pushed.data?.orderStatusChanged;
  useEffect(() => {
    if (pushedOrder) refetch({ requestPolicy: 'network-only' });
  }, [pushedOrder, refetch]);

  const loaded = query.data?.order;
  const paymentOpen = loaded?.status === 'PENDING_PAYMENT' && (paying || loaded.payment?.status === 'PENDING');
  usePolling(() => refetch({ requestPolicy: 'network-only' }), PAYMENT_POLL_MS, Boolean(paymentOpen) || Boolean(pushed.error));
  useEffect(() => {
    if (loaded?.payment && loaded.payment.status !== 'PENDING') setPaying(false);
  }, [loaded?.payment]);

  if (query.error && !query.data) return <ErrorAlert error={query.error} onRetry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (!query.data) return <Loading />;
  if (!loaded) {
    return (
      <section className="card">
        <PageHeading>{t('order.notFound')}</PageHeading>
        <Link to="/orders">{t('orders.title')}</Link>
      </section>
    );
  }
  const order = pushedOrder && pushedOrder.id === loaded.id && pushedOrder.version > loaded.version ? pushedOrder : loaded;
  return <OrderView order={order} live={!pushed.error} placed={params.get('placed') === '1'} onPaymentStarted={() => setPaying(true)} />;
}

export function OrderPage({ id }: { id: string }) {
  return (
    <RequireSignIn>
      <LiveOrder id={id} />
    </RequireSignIn>
  );
}
