import { useEffect, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { AddToCartDocument, ProductDocument, type SkuFieldsFragment } from '../gql/graphql';
import { ErrorAlert, Loading, Money } from '../components/ui';
import { Link } from '../router';
import { useSession } from '../session';

function SkuRow({ sku, onAdded }: { sku: SkuFieldsFragment; onAdded(): void }) {
  const { session } = useSession();
  const [qty, setQty] = useState(1);
  const [result, addToCart] = useMutation(AddToCartDocument);
  const [added, setAdded] = useState(false);
  const soldOut = sku.available <= 0;

  const onAdd = async () => {
    setAdded(false);
    const res = await addToCart({ skuId: sku.id, qty });
    if (!res.error) setAdded(true);
    onAdded();
  };

  return (
    <li className="sku-row" aria-label={sku.title}>
      <div className="grow">
        <strong>{sku.title}</strong> {sku.flashSale ? <span className="badge badge-flash">Flash sale</span> : null}
        <div>
          <Money value={sku.price} />
        </div>
        <div className={soldOut ? 'stock stock-out' : 'stock'} aria-live="polite">
          {soldOut ? 'Sold out' : `${sku.available} in stock`}
        </div>
      </div>
      {session ? (
        <div className="row">
          <label>
            Quantity
            <input
              type="number"
              min={1}
              max={99}
              value={qty}
              onChange={(e) => setQty(Math.max(1, Math.min(99, Number(e.target.value) || 1)))}
              className="qty"
            />
          </label>
          <button type="button" disabled={soldOut || result.fetching} onClick={() => void onAdd()} aria-label={`Add ${sku.title} to cart`}>
            Add to cart
          </button>
        </div>
      ) : (
        <Link to="/sign-in">Sign in to buy</Link>
      )}
      <div className="full">
        <ErrorAlert error={result.error} titles={(id) => (id === sku.id ? sku.title : undefined)} />
        {added ? (
          <p role="status" className="ok">
            Added to your cart. <Link to="/cart">View cart</Link>
          </p>
        ) : null}
      </div>
    </li>
  );
}

/** Product detail: price, SKUs and live stock (refetched after adding to the cart and when the tab regains focus). */
export function ProductPage({ id }: { id: string }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: ProductDocument, variables: { id } });
  const refresh = () => refetch({ requestPolicy: 'network-only' });

  useEffect(() => {
    const onFocus = () => refetch({ requestPolicy: 'network-only' });
    const onVisible = () => document.visibilityState === 'visible' && onFocus();
    window.addEventListener('focus', onFocus);
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.removeEventListener('focus', onFocus);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [refetch]);

  if (error) return <ErrorAlert error={error} />;
  if (!data) return fetching ? <Loading /> : null;
  if (!data.product) {
    return (
      <section className="card">
        <h1>Product not found</h1>
        <Link to="/">Back to the catalog</Link>
      </section>
    );
  }
  const product = data.product;
  return (
    <section className="card">
      <p>
        <Link to="/">← All products</Link>
      </p>
      <h1>{product.title}</h1>
      <p>{product.description}</p>
      <h2>Options</h2>
      <ul className="sku-list" aria-label="Options">
        {product.skus.map((sku) => (
          <SkuRow key={sku.id} sku={sku} onAdded={refresh} />
        ))}
      </ul>
    </section>
  );
}
