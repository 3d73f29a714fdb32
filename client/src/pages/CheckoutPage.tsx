import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useClient, useMutation, useQuery, type CombinedError } from 'urql';
import {
  AddressesDocument,
  CartDocument,
  PlaceOrderDocument,
  PreviewOrderDocument,
  SetCartItemQtyDocument,
  type OrderLineInput,
  type PreviewOrderMutation,
} from '../gql/graphql';
import { ErrorAlert, Loading, Money, RequireSignIn, formatDateTime } from '../components/ui';
import { attemptForPreview, finishAttempt } from '../lib/client-req-id';
import { errorCode } from '../lib/error-messages';
import { Link, navigate } from '../router';
import { AddressForm } from './AddressForm';

type Preview = PreviewOrderMutation['previewOrder'] & { lines: OrderLineInput[] };

function Checkout() {
  const [cart] = useQuery({ query: CartDocument, requestPolicy: 'network-only' });
  const [addresses, refetchAddresses] = useQuery({ query: AddressesDocument, context: useMemo(() => ({ additionalTypenames: ['Address'] }), []) });
  const [, previewOrder] = useMutation(PreviewOrderDocument);
  const [, placeOrder] = useMutation(PlaceOrderDocument);
  const client = useClient();

  const [chosenAddress, setChosenAddress] = useState<string | null>(null);
  const [couponText, setCouponText] = useState('');
  const [coupon, setCoupon] = useState<string | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewError, setPreviewError] = useState<CombinedError | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [repreview, setRepreview] = useState(0);
  const [placeError, setPlaceError] = useState<CombinedError | null>(null);
  const [placing, setPlacing] = useState(false);
  const placingRef = useRef(false);
  const previewSeq = useRef(0);

  const items = cart.data?.cart.items ?? [];
  const titles = (skuId: string) => {
    const item = items.find((i) => i.sku.id === skuId);
    return item ? `${item.sku.product.title} — ${item.sku.title}` : undefined;
  };
  const itemsKey = JSON.stringify(items.map((i) => ({ skuId: i.sku.id, qty: i.qty })));
  const addressList = addresses.data?.addresses ?? [];
  const addressId = chosenAddress ?? addressList[0]?.id ?? null;

  // The preview follows the cart, the address and the coupon; each new preview is a new checkout attempt.
  useEffect(() => {
    const lines = JSON.parse(itemsKey) as { skuId: string; qty: number }[];
    if (lines.length === 0) {
      setPreview(null);
      return;
    }
    const seq = ++previewSeq.current;
    setPreviewing(true);
    void previewOrder({ input: { items: lines, couponCode: coupon, addressId } }).then((res) => {
      if (seq !== previewSeq.current) return;
      setPreviewing(false);
      setPreview(res.data ? { ...res.data.previewOrder, lines } : null);
      setPreviewError(res.error ?? null);
    });
  }, [itemsKey, addressId, coupon, repreview, previewOrder]);

  const onApplyCoupon = (event: FormEvent) => {
    event.preventDefault();
    setCoupon(couponText.trim() ? couponText.trim().toUpperCase() : null);
  };

  /** The ordered lines leave the cart (best effort: the order exists either way), then the cart is read afresh. */
  const clearOrderedLines = async (lines: OrderLineInput[]) => {
    await Promise.allSettled(lines.map((line) => client.mutation(SetCartItemQtyDocument, { skuId: line.skuId, qty: 0 }).toPromise()));
    await client.query(CartDocument, {}, { requestPolicy: 'network-only' }).toPromise();
  };

  const onPlaceOrder = async () => {
    if (!preview || placingRef.current) return; // a second click while the first is in flight does nothing
    placingRef.current = true;
    setPlacing(true);
    setPlaceError(null);
    // Same preview -> same clientReqId, so a retry after a lost answer returns the same order.
    const attempt = attemptForPreview(window.sessionStorage, preview.previewId);
    const res = await placeOrder({ input: { clientReqId: attempt.clientReqId, previewId: attempt.previewId } }, { additionalTypenames: ['Order'] });
    if (res.data) {
      // Still "placing" while we leave the page: no click can start another attempt.
      finishAttempt(window.sessionStorage);
      navigate(`/orders/${res.data.placeOrder.order.id}`);
      void clearOrderedLines(preview.lines);
      return;
    }
    placingRef.current = false;
    setPlacing(false);
    setPlaceError(res.error ?? null);
    if (errorCode(res.error) === 'PREVIEW_EXPIRED') setRepreview((n) => n + 1);
  };

  if (cart.error) return <ErrorAlert error={cart.error} />;
  if (!cart.data) return <Loading />;
  if (items.length === 0) {
    return (
      <section className="card">
        <h1>Checkout</h1>
        <p>
          Your cart is empty. <Link to="/">Browse products</Link>
        </p>
      </section>
    );
  }

  const insufficient = preview?.stockCheck === 'INSUFFICIENT';
  const canPlace = Boolean(preview) && !previewing && !placing && addressId !== null && !insufficient;

  return (
    <section className="checkout">
      <h1>Checkout</h1>

      <div className="card">
        <h2>Items</h2>
        <ul aria-label="Items to order">
          {items.map((i) => (
            <li key={i.sku.id}>
              {i.qty} × {i.sku.product.title} — {i.sku.title} (<Money value={i.sku.price} />)
            </li>
          ))}
        </ul>
        <Link to="/cart">Change cart</Link>
      </div>

      <div className="card">
        <h2 id="address-heading">Shipping address</h2>
        <ErrorAlert error={addresses.error} />
        {addressList.length > 0 ? (
          <fieldset role="radiogroup" aria-labelledby="address-heading" className="stack">
            {addressList.map((a) => (
              <label key={a.id} className="choice">
                <input type="radio" name="address" value={a.id} checked={a.id === addressId} onChange={() => setChosenAddress(a.id)} />
                {a.name}, {a.line1}, {a.city}, {a.country} ({a.phone})
              </label>
            ))}
          </fieldset>
        ) : (
          <p className="muted">Add an address to ship your order to.</p>
        )}
        <details open={addressList.length === 0 && !addresses.fetching}>
          <summary>Add a new address</summary>
          <AddressForm
            onSaved={(address) => {
              setChosenAddress(address.id);
              refetchAddresses({ requestPolicy: 'network-only' });
            }}
          />
        </details>
      </div>

      <div className="card">
        <h2>Coupon</h2>
        <form className="row" onSubmit={onApplyCoupon}>
          <label className="grow">
            Coupon code
            <input value={couponText} onChange={(e) => setCouponText(e.target.value)} autoComplete="off" />
          </label>
          <button type="submit" disabled={!couponText.trim()}>
            Apply coupon
          </button>
          {coupon ? (
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setCoupon(null);
                setCouponText('');
              }}
            >
              Remove coupon
            </button>
          ) : null}
        </form>
        {coupon && preview && !previewError ? <p className="ok">Coupon {coupon} applied.</p> : null}
      </div>

      <div className="card">
        <h2 id="summary-heading">Order summary</h2>
        <ErrorAlert error={previewError} titles={titles} />
        {previewing && !preview ? <Loading label="Calculating your total…" /> : null}
        {preview ? (
          <dl className="summary" aria-labelledby="summary-heading" aria-busy={previewing}>
            <dt>Items</dt>
            <dd data-testid="summary-total">
              <Money value={preview.total} />
            </dd>
            <dt>Discount</dt>
            <dd data-testid="summary-discount">
              {preview.discount.amount > 0 ? '−' : ''}
              <Money value={preview.discount} />
            </dd>
            <dt>Shipping</dt>
            <dd data-testid="summary-shipping">
              <Money value={preview.shippingFee} />
            </dd>
            <dt className="payable">To pay</dt>
            <dd className="payable" data-testid="summary-payable">
              <Money value={preview.payable} />
            </dd>
          </dl>
        ) : null}
        {insufficient ? (
          <p role="alert" className="alert">
            Sorry, some items are no longer in stock in the quantity you chose. Please <Link to="/cart">change your cart</Link>.
          </p>
        ) : null}
        {preview ? <p className="muted small">These prices are held until {formatDateTime(preview.expiresAt)}.</p> : null}
        {addressId === null ? <p className="muted">Choose a shipping address to place your order.</p> : null}
        <ErrorAlert error={placeError} titles={titles} />
        <button type="button" className="primary" disabled={!canPlace} aria-busy={placing} onClick={() => void onPlaceOrder()}>
          {placing ? 'Placing order…' : 'Place order'}
        </button>
      </div>
    </section>
  );
}

export function CheckoutPage() {
  return (
    <RequireSignIn>
      <Checkout />
    </RequireSignIn>
  );
}
