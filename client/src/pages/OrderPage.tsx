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
import { ErrorAlert, Loading, Money, RequireSignIn, StatusBadge, formatDateTime, shortId } from '../components/ui';
import { SOCKET_CONNECTED, socketEvents } from '../graphql-client';
import { Link } from '../router';

/** Pay: opens the payment provider's checkout page; the status changes here live when the payment lands. */
function PayButton({ orderId }: { orderId: string }) {
  const [result, payOrder] = useMutation(PayOrderDocument);
  const [paymentUrl, setPaymentUrl] = useState<string | null>(null);

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
        Pay
      </button>
      {paymentUrl ? (
        <p className="muted small">
          The payment page opened in a new tab. This page updates by itself when the payment is done.{' '}
          <a href={paymentUrl} target="_blank" rel="noreferrer">
            Open the payment page again
          </a>
        </p>
      ) : null}
      <ErrorAlert error={result.error} />
    </div>
  );
}

function CancelButton({ orderId }: { orderId: string }) {
  const [result, cancelOrder] = useMutation(CancelOrderDocument);
  const [confirming, setConfirming] = useState(false);
  return (
    <div className="stack">
      {confirming ? (
        <div className="row" role="group" aria-label="Confirm cancellation">
          <span>Cancel this order?</span>
          <button
            type="button"
            className="danger"
            disabled={result.fetching}
            onClick={() => {
              setConfirming(false);
              void cancelOrder({ orderId });
            }}
          >
            Yes, cancel the order
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep the order
          </button>
        </div>
      ) : (
        <button type="button" className="secondary" disabled={result.fetching} onClick={() => setConfirming(true)}>
          Cancel order
        </button>
      )}
      <ErrorAlert error={result.error} />
    </div>
  );
}

function RefundForm({ orderId }: { orderId: string }) {
  const [reason, setReason] = useState('');
  const [result, requestRefund] = useMutation(RequestRefundDocument);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (reason.trim()) void requestRefund({ orderId, reason: reason.trim() });
  };
  if (result.data) {
    return (
      <p role="status" className="ok">
        Refund of <Money value={result.data.requestRefund.amount} /> requested. We will let you know when it is done.
      </p>
    );
  }
  return (
    <form className="stack" onSubmit={onSubmit} aria-label="Refund">
      <label>
        Reason for the refund
        <textarea value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} rows={2} />
      </label>
      <button type="submit" className="secondary" disabled={!reason.trim() || result.fetching}>
        Request refund
      </button>
      <ErrorAlert error={result.error} />
    </form>
  );
}

function OrderView({ order, live }: { order: OrderFieldsFragment; live: 'live' | 'unavailable' }) {
  return (
    <section className="card">
      <p>
        <Link to="/orders">← Your orders</Link>
      </p>
      <h1>Order {shortId(order.id)}</h1>
      <p className="muted small">
        {order.id} · placed {formatDateTime(order.createdAt)}
      </p>
      <dl className="summary">
        <dt>Status</dt>
        <dd>
          <span role="status" aria-label="Order status" aria-live="polite" data-status={order.status}>
            <StatusBadge status={order.status} />
          </span>
          {order.cancelReason ? <span className="muted"> ({cancelReasonText[order.cancelReason]})</span> : null}
        </dd>
        {order.status === 'PENDING_PAYMENT' ? (
          <>
            <dt>Pay before</dt>
            <dd>{formatDateTime(order.expireAt)}</dd>
          </>
        ) : null}
        <dt>Items</dt>
        <dd>
          <Money value={order.total} />
        </dd>
        <dt>Discount</dt>
        <dd>
          <Money value={order.discount} />
        </dd>
        <dt>Shipping</dt>
        <dd>
          <Money value={order.shippingFee} />
        </dd>
        <dt className="payable">To pay</dt>
        <dd className="payable" data-testid="order-payable">
          <Money value={order.payable} />
        </dd>
      </dl>
      <p className="muted small" aria-live="polite">
        {live === 'live' ? 'This page updates live.' : 'Live updates are unavailable right now; reload the page to see changes.'}
      </p>

      <div className="row actions">
        {order.status === 'PENDING_PAYMENT' ? <PayButton orderId={order.id} /> : null}
        {order.status === 'PENDING_PAYMENT' || order.status === 'CREATED' ? <CancelButton orderId={order.id} /> : null}
      </div>
      {order.status === 'PAID' || order.status === 'SHIPPED' ? <RefundForm orderId={order.id} /> : null}

      <h2>Items</h2>
      <table aria-label="Order items">
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">Quantity</th>
            <th scope="col">Unit price</th>
          </tr>
        </thead>
        <tbody>
          {order.items.map((item) => (
            <tr key={item.sku.id}>
              <th scope="row">
                <Link to={`/products/${item.sku.product.id}`}>
                  {item.sku.product.title} — {item.sku.title}
                </Link>
              </th>
              <td>{item.qty}</td>
              <td>
                <Money value={item.unitPrice} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Payment</h2>
      {order.payment ? (
        <p aria-label="Payment">
          {paymentText(order.payment.status)} · <Money value={order.payment.amount} />
          {order.payment.paymentTxnId ? <span className="muted small"> · transaction {order.payment.paymentTxnId}</span> : null}
        </p>
      ) : (
        <p className="muted">No payment yet.</p>
      )}

      <h2>Shipments</h2>
      {order.shipments.length === 0 ? (
        <p className="muted">{order.status === 'PAID' ? 'Your order is being prepared.' : 'Nothing shipped yet.'}</p>
      ) : (
        <ul aria-label="Shipments" className="stack">
          {order.shipments.map((s) => (
            <li key={s.id}>
              <strong>{s.status}</strong> from {s.warehouseId}
              {s.trackingNumber ? <> · tracking number {s.trackingNumber}</> : null}
              <div className="muted small">{s.items.map((i) => `${i.qty} × ${i.sku.title}`).join(', ')}</div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

const cancelReasonText: Record<NonNullable<OrderFieldsFragment['cancelReason']>, string> = {
  USER_CANCELED: 'you canceled it',
  PAYMENT_TIMEOUT: 'not paid in time',
  OUT_OF_STOCK: 'out of stock',
  RISK_REJECTED: 'not accepted',
};

const paymentText = (status: string): string =>
  ({ PENDING: 'Waiting for payment', SUCCEEDED: 'Paid', FAILED: 'Payment failed', REFUNDED: 'Refunded' })[status] ?? status;

/**
 * The order, live: the query loads it, the orderStatusChanged subscription pushes every status
 * change (no polling), and each (re)connection of the socket refetches it once, so a change made
 * while the socket was down is not missed. Whichever copy has the higher version is shown.
 */
function LiveOrder({ id }: { id: string }) {
  const [query, refetch] = useQuery({ query: OrderDocument, variables: { id } });
  const [pushed] = useSubscription({ query: OrderStatusChangedDocument, variables: { orderId: id } }, (_previous, data) => data);

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

  if (query.error && !query.data) return <ErrorAlert error={query.error} />;
  if (!query.data) return <Loading />;
  const loaded = query.data.order;
  if (!loaded) {
    return (
      <section className="card">
        <h1>Order not found</h1>
        <Link to="/orders">Your orders</Link>
      </section>
    );
  }
  const order = pushedOrder && pushedOrder.id === loaded.id && pushedOrder.version > loaded.version ? pushedOrder : loaded;
  const live = pushed.error ? 'unavailable' : 'live';
  return <OrderView order={order} live={live} />;
}

export function OrderPage({ id }: { id: string }) {
  return (
    <RequireSignIn>
      <LiveOrder id={id} />
    </RequireSignIn>
  );
}
