import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { AddToCartDocument, CartDocument, ProductDocument, type SkuFieldsFragment } from '../gql/graphql';
import { ErrorAlert, Loading, Money, PageHeading, ProductImage, signInPath, usePolling } from '../components/ui';
import { useI18n } from '../i18n/i18n';
import { errorCode } from '../lib/error-messages';
import { Link } from '../router';
import { useSession } from '../session';
import { FlashSaleBuy } from './FlashSaleBuy';

/**
 * How often the product page reads stock again while it is visible: one batched read of the SKUs'
 * stock rows per poll (the gateway has no response cache yet, so each poll reaches inventory).
 */
const STOCK_POLL_MS = 4000;

/** How many more of a SKU fit: what is in stock minus what the cart already holds. */
export const roomFor = (available: number, inCart: number): number => Math.max(0, available - inCart);

function SkuRow({ sku, inCart, onAdded }: { sku: SkuFieldsFragment; inCart: number; onAdded(): void }) {
  const { session } = useSession();
  const { t } = useI18n();
  const [qty, setQty] = useState(1);
  const [result, addToCart] = useMutation(AddToCartDocument);
  const [added, setAdded] = useState(false);
  const [tooMany, setTooMany] = useState<string | null>(null);
  const soldOut = sku.available <= 0;
  const room = roomFor(sku.available, inCart);

  const onAdd = async () => {
    setAdded(false);
    // More than is in stock would only fail at checkout: say so now, and add nothing.
    if (qty > room) {
      setTooMany(room === 0 ? t('product.tooManyNone', { available: sku.available }) : t('product.tooMany', { available: sku.available, inCart, room }));
      return;
    }
    setTooMany(null);
    const res = await addToCart({ skuId: sku.id, qty });
    if (!res.error) setAdded(true);
    onAdded();
  };

  return (
    <li className="sku-row" aria-label={sku.title}>
      <div className="grow">
        <strong>{sku.title}</strong> {sku.flashSale ? <span className="badge badge-flash">{t('product.flashSale')}</span> : null}
        <div>
          <Money value={sku.price} />
        </div>
        <div className={soldOut ? 'stock stock-out' : 'stock'} aria-live="polite" data-testid="stock">
          {soldOut ? t('product.soldOut') : t('product.inStock', { n: sku.available })}
        </div>
      </div>
      {session && sku.flashSale ? (
        <FlashSaleBuy sku={sku} />
      ) : session ? (
        <div className="row">
          <label>
            {t('product.quantity')}
            <input
              type="number"
              min={1}
              max={99}
              value={qty}
              onChange={(e) => {
                setTooMany(null);
                setQty(Math.max(1, Math.min(99, Number(e.target.value) || 1)));
              }}
              className="qty"
            />
          </label>
          <button type="button" disabled={soldOut || result.fetching} onClick={() => void onAdd()}>
            {t('product.add')}
            <span className="visually-hidden"> — {sku.title}</span>
          </button>
        </div>
      ) : (
        <Link to={signInPath()}>{t('product.signInToBuy')}</Link>
      )}
      <div className="full">
        {tooMany ? (
          <p role="alert" className="alert">
            {tooMany}
          </p>
        ) : null}
        <ErrorAlert error={result.error} titles={(id) => (id === sku.id ? sku.title : undefined)} />
        {added ? (
          <p role="status" className="ok">
            {t('product.added')} <Link to="/cart">{t('product.viewCart')}</Link>
          </p>
        ) : null}
      </div>
    </li>
  );
}

function NotFound() {
  const { t } = useI18n();
  return (
    <section className="card">
      <PageHeading>{t('product.notFound')}</PageHeading>
      <p>{t('product.notFoundText')}</p>
      <Link to="/">{t('common.backToCatalog')}</Link>
    </section>
  );
}

/** What the signed-in shopper's cart holds of each SKU. */
function useCartQuantities(): Map<string, number> {
  const { session } = useSession();
  const [{ data }] = useQuery({ query: CartDocument, pause: !session });
  return new Map((data?.cart.items ?? []).map((i) => [i.sku.id, i.qty]));
}

/** Product detail: pictures, SKUs and live stock (read again every few seconds while visible, and after adding to the cart). */
export function ProductPage({ id }: { id: string }) {
  const { t } = useI18n();
  const [{ data, fetching, error }, refetch] = useQuery({ query: ProductDocument, variables: { id } });
  const refresh = () => refetch({ requestPolicy: 'network-only' });
  usePolling(refresh, STOCK_POLL_MS);
  const inCart = useCartQuantities();

  // A malformed id ("prd_doesnotexist") is as unknown as a missing product.
  if (error && errorCode(error) === 'BAD_USER_INPUT') return <NotFound />;
  if (error && !data) return <ErrorAlert error={error} onRetry={refresh} />;
  if (!data) return fetching ? <Loading /> : null;
  if (!data.product) return <NotFound />;
  const product = data.product;
  return (
    <section className="card product-page">
      <p>
        <Link to="/">{t('product.all')}</Link>
      </p>
      <div className="product-layout">
        <ProductImage images={product.images} title={product.title} className="product-hero" />
        <div>
          <PageHeading>{product.title}</PageHeading>
          <p>{product.description}</p>
          <h2>{t('product.options')}</h2>
          <ul className="sku-list" aria-label={t('product.options')}>
            {product.skus.map((sku) => (
              <SkuRow key={sku.id} sku={sku} inCart={inCart.get(sku.id) ?? 0} onAdded={refresh} />
            ))}
          </ul>
          <p className="muted small">{t('product.stockLive')}</p>
          {error ? <ErrorAlert error={error} onRetry={refresh} /> : null}
        </div>
      </div>
    </section>
  );
}
