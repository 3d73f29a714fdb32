import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useClient, useMutation, useQuery, type CombinedError } from 'urql';
import {
  AddressesDocument,
  CartDocument,
  PlaceOrderDocument,
  PreviewOrderDocument,
  RemoveAddressDocument,
  SetCartItemQtyDocument,
  type AddressFieldsFragment,
  type OrderLineInput,
  type PreviewOrderMutation,
} from '../gql/graphql';
import { ErrorAlert, Loading, Money, PageHeading, RequireSignIn, useWording } from '../components/ui';
import { useI18n } from '../i18n/i18n';
import { attemptForPreview, finishAttempt } from '../lib/client-req-id';
import { couponMessage, errorCode } from '../lib/error-messages';
import { Link, navigate } from '../router';
import { AddressForm } from './AddressForm';

type Preview = PreviewOrderMutation['previewOrder'] & { lines: OrderLineInput[] };

/** A coupon the shop refused: the sentence shown by the coupon field; the order is previewed without it. */
interface RefusedCoupon {
  code: string;
  message: string;
}

function AddressChoice({
  address,
  checked,
  onChoose,
  onEdit,
  onRemoved,
}: {
  address: AddressFieldsFragment;
  checked: boolean;
  onChoose(): void;
  onEdit(): void;
  onRemoved(): void;
}) {
  const { t } = useI18n();
  const [removed, removeAddress] = useMutation(RemoveAddressDocument);
  const a = address;
  return (
    <div className="address-choice">
      <label className="choice grow">
        <input type="radio" name="address" value={a.id} checked={checked} onChange={onChoose} />
        {a.name}, {a.line1}, {a.city}, {a.country} ({a.phone})
      </label>
      <button type="button" className="link" onClick={onEdit} aria-label={t('checkout.editAddressLabel', { name: a.name })}>
        {t('checkout.editAddress')}
      </button>
      <button
        type="button"
        className="link"
        disabled={removed.fetching}
        aria-label={t('checkout.removeAddressLabel', { name: a.name })}
        onClick={() =>
          void removeAddress({ id: a.id }, { additionalTypenames: ['Address'] }).then((res) => {
            if (!res.error) onRemoved();
          })
        }
      >
        {t('checkout.removeAddress')}
      </button>
      <ErrorAlert error={removed.error} />
    </div>
  );
}

function Checkout() {
  const { t, dateTime } = useI18n();
  const wording = useWording();
  const [cart, refetchCart] = useQuery({ query: CartDocument, requestPolicy: 'network-only' });
  const [addresses, refetchAddresses] = useQuery({ query: AddressesDocument, context: useMemo(() => ({ additionalTypenames: ['Address'] }), []) });
  const [, previewOrder] = useMutation(PreviewOrderDocument);
  const [, placeOrder] = useMutation(PlaceOrderDocument);
  const client = useClient();

  const [chosenAddress, setChosenAddress] = useState<string | null>(null);
  const [editing, setEditing] = useState<AddressFieldsFragment | null>(null);
  const [couponText, setCouponText] = useState('');
  const [coupon, setCoupon] = useState<string | null>(null);
  const [refused, setRefused] = useState<RefusedCoupon | null>(null);
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
  const addressId = (chosenAddress && addressList.some((a) => a.id === chosenAddress) ? chosenAddress : null) ?? addressList[0]?.id ?? null;
  // A refused coupon stays in the field with its reason; the price breakdown is the order's without it.
  const appliedCoupon = coupon && refused?.code !== coupon ? coupon : null;

  // The preview follows the cart, the address and the coupon; each new preview is a new checkout attempt.
  useEffect(() => {
    const lines = JSON.parse(itemsKey) as { skuId: string; qty: number }[];
    if (lines.length === 0) {
      setPreview(null);
      return;
    }
    const seq = ++previewSeq.current;
    setPreviewing(true);
    void previewOrder({ input: { items: lines, couponCode: appliedCoupon, addressId } }).then((res) => {
      if (seq !== previewSeq.current) return;
      setPreviewing(false);
      const couponError = appliedCoupon && res.error?.graphQLErrors[0] ? couponMessage(res.error.graphQLErrors[0], appliedCoupon, wording) : undefined;
      if (couponError && appliedCoupon) {
        setRefused({ code: appliedCoupon, message: couponError }); // previews again without it
        return;
      }
      setPreview(res.data ? { ...res.data.previewOrder, lines } : null);
      setPreviewError(res.error ?? null);
    });
  }, [itemsKey, addressId, appliedCoupon, repreview, previewOrder]);

  const onApplyCoupon = (event: FormEvent) => {
    event.preventDefault();
    const code = couponText.trim() ? couponText.trim().toUpperCase() : null;
    setRefused(null);
    setCoupon(code);
  };
  const onRemoveCoupon = () => {
    setCoupon(null);
    setRefused(null);
    setCouponText('');
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
      navigate(`/orders/${res.data.placeOrder.order.id}?placed=1`);
      void clearOrderedLines(preview.lines);
      return;
    }
    placingRef.current = false;
    setPlacing(false);
    setPlaceError(res.error ?? null);
    if (errorCode(res.error) === 'PREVIEW_EXPIRED') setRepreview((n) => n + 1);
  };

  if (cart.error && !cart.data) return <ErrorAlert error={cart.error} onRetry={() => refetchCart({ requestPolicy: 'network-only' })} />;
  if (!cart.data) return <Loading />;
  if (items.length === 0) {
    return (
      <section className="card">
        <PageHeading>{t('checkout.title')}</PageHeading>
        <p>
          {t('cart.empty')} <Link to="/">{t('cart.browse')}</Link>
        </p>
      </section>
    );
  }

  const insufficient = preview?.stockCheck === 'INSUFFICIENT';
  const canPlace = Boolean(preview) && !previewError && !previewing && !placing && addressId !== null && !insufficient;

  return (
    <section className="checkout">
      <PageHeading>{t('checkout.title')}</PageHeading>

      <div className="card">
        <h2>{t('checkout.items')}</h2>
        <ul aria-label={t('checkout.itemsToOrder')}>
          {items.map((i) => (
            <li key={i.sku.id}>
              {i.qty} × {i.sku.product.title} — {i.sku.title} (<Money value={i.sku.price} />)
            </li>
          ))}
        </ul>
        <Link to="/cart">{t('checkout.changeCart')}</Link>
      </div>

      <div className="card">
        <h2 id="address-heading">{t('checkout.address')}</h2>
        <ErrorAlert error={addresses.error} onRetry={() => refetchAddresses({ requestPolicy: 'network-only' })} />
        {addressList.length > 0 ? (
          <fieldset role="radiogroup" aria-labelledby="address-heading" className="stack">
            {addressList.map((a) => (
              <AddressChoice
                key={a.id}
                address={a}
                checked={a.id === addressId}
                onChoose={() => setChosenAddress(a.id)}
                onEdit={() => setEditing(a)}
                onRemoved={() => refetchAddresses({ requestPolicy: 'network-only' })}
              />
            ))}
          </fieldset>
        ) : (
          <p className="muted">{t('checkout.addAddressHint')}</p>
        )}
        {editing ? (
          <div className="card inset">
            <h3>{t('address.edit')}</h3>
            <AddressForm
              key={editing.id}
              editing={editing}
              onSaved={(address) => {
                setEditing(null);
                setChosenAddress(address.id);
                refetchAddresses({ requestPolicy: 'network-only' });
              }}
            />
            <button type="button" className="secondary" onClick={() => setEditing(null)}>
              {t('common.cancel')}
            </button>
          </div>
        ) : (
          <details open={addressList.length === 0 && !addresses.fetching}>
            <summary>{t('checkout.addAddress')}</summary>
            <AddressForm
              onSaved={(address) => {
                setChosenAddress(address.id);
                refetchAddresses({ requestPolicy: 'network-only' });
              }}
            />
          </details>
        )}
      </div>

      <div className="card">
        <h2>{t('checkout.coupon')}</h2>
        <form className="row" onSubmit={onApplyCoupon}>
          <label className="grow">
            {t('checkout.couponCode')}
            <input
              value={couponText}
              onChange={(e) => setCouponText(e.target.value)}
              autoComplete="off"
              aria-invalid={refused ? true : undefined}
              aria-describedby={refused ? 'coupon-error' : undefined}
            />
          </label>
          <button type="submit" disabled={!couponText.trim()}>
            {t('checkout.applyCoupon')}
          </button>
          {coupon ? (
            <button type="button" className="secondary" onClick={onRemoveCoupon}>
              {t('checkout.removeCoupon')}
            </button>
          ) : null}
        </form>
        {refused ? (
          <p role="alert" className="alert" id="coupon-error">
            {refused.message} {t('checkout.couponNotApplied')}
          </p>
        ) : null}
        {appliedCoupon && preview && !previewError && !previewing ? (
          <p className="ok" role="status">
            {t('checkout.couponApplied', { code: appliedCoupon })}
          </p>
        ) : null}
      </div>

      <div className="card">
        <h2 id="summary-heading">{t('checkout.summary')}</h2>
        <ErrorAlert error={previewError} titles={titles} onRetry={() => setRepreview((n) => n + 1)} />
        {previewing && !preview ? <Loading label={t('checkout.calculating')} /> : null}
        {preview ? (
          <dl className="summary" aria-labelledby="summary-heading" aria-busy={previewing}>
            <dt>{t('checkout.itemsTotal')}</dt>
            <dd data-testid="summary-total">
              <Money value={preview.total} />
            </dd>
            <dt>{t('checkout.discount')}</dt>
            <dd data-testid="summary-discount">
              {preview.discount.amount > 0 ? '−' : ''}
              <Money value={preview.discount} />
            </dd>
            <dt>{t('checkout.shipping')}</dt>
            <dd data-testid="summary-shipping">
              <Money value={preview.shippingFee} />
            </dd>
            <dt className="payable">{t('checkout.toPay')}</dt>
            <dd className="payable" data-testid="summary-payable">
              <Money value={preview.payable} />
            </dd>
          </dl>
        ) : null}
        {insufficient ? (
          <p role="alert" className="alert">
            {t('checkout.insufficient')} <Link to="/cart">{t('checkout.changeYourCart')}</Link>.
          </p>
        ) : null}
        {preview ? <p className="muted small">{t('checkout.heldUntil', { time: dateTime(preview.expiresAt) })}</p> : null}
        {addressId === null ? <p className="muted">{t('checkout.chooseAddress')}</p> : null}
        <ErrorAlert error={placeError} titles={titles} onRetry={() => void onPlaceOrder()} />
        <button type="button" className="primary" disabled={!canPlace} aria-busy={placing} onClick={() => void onPlaceOrder()}>
          {placing ? t('checkout.placing') : t('checkout.place')}
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
