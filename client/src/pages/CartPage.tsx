import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { CartDocument, SetCartItemQtyDocument, type CartFieldsFragment } from '../gql/graphql';
import { ErrorAlert, Loading, Money, PageHeading, ProductImage, RequireSignIn, TableScroll } from '../components/ui';
import { useI18n } from '../i18n/i18n';
import { Link } from '../router';

type Item = CartFieldsFragment['items'][number];

/** A line the shop cannot deliver as it is: sold out, or more than is left. */
export const lineProblem = (item: Pick<Item, 'qty'> & { sku: Pick<Item['sku'], 'available'> }): 'soldOut' | 'tooMany' | null =>
  item.sku.available <= 0 ? 'soldOut' : item.sku.available < item.qty ? 'tooMany' : null;

function CartLine({ item }: { item: Item }) {
  const { t } = useI18n();
  const [qty, setQty] = useState(String(item.qty));
  const [result, setCartItemQty] = useMutation(SetCartItemQtyDocument);
  const title = `${item.sku.product.title} — ${item.sku.title}`;
  const parsed = Number(qty);
  const valid = Number.isInteger(parsed) && parsed >= 0 && parsed <= 99;
  const problem = lineProblem(item);

  return (
    <tr className={problem ? 'line-problem' : undefined}>
      <th scope="row">
        <div className="row cart-item">
          <ProductImage images={item.sku.product.images} title={item.sku.product.title} className="thumb" />
          <Link to={`/products/${item.sku.product.id}`}>{title}</Link>
        </div>
        {problem === 'soldOut' ? <div className="stock stock-out">{t('cart.soldOut')}</div> : null}
        {problem === 'tooMany' ? <div className="stock stock-out">{t('cart.onlyLeft', { n: item.sku.available })}</div> : null}
        <ErrorAlert error={result.error} titles={(id) => (id === item.sku.id ? title : undefined)} />
      </th>
      <td>
        <Money value={item.sku.price} />
      </td>
      <td>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (valid) void setCartItemQty({ skuId: item.sku.id, qty: parsed });
          }}
        >
          <label>
            <span className="visually-hidden">{t('cart.quantityOf', { title })}</span>
            <input
              type="number"
              min={0}
              max={99}
              className="qty"
              value={qty}
              onChange={(e) => setQty(e.target.value)}
              aria-label={t('cart.quantityOf', { title })}
            />
          </label>
          <button type="submit" disabled={!valid || parsed === item.qty || result.fetching}>
            {t('cart.update')}
          </button>
          <button
            type="button"
            className="secondary"
            disabled={result.fetching}
            onClick={() => void setCartItemQty({ skuId: item.sku.id, qty: 0 })}
            aria-label={t('cart.removeLabel', { title })}
          >
            {t('cart.remove')}
          </button>
        </form>
      </td>
      <td>
        <Money value={{ amount: item.sku.price.amount * item.qty, currency: item.sku.price.currency }} />
      </td>
    </tr>
  );
}

function Cart() {
  const { t, money } = useI18n();
  const [{ data, fetching, error }, refetch] = useQuery({ query: CartDocument, requestPolicy: 'cache-and-network' });
  if (error && !data) return <ErrorAlert error={error} onRetry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (!data) return fetching ? <Loading /> : null;
  const { items, subtotal } = data.cart;
  if (items.length === 0) {
    return (
      <section className="card">
        <PageHeading>{t('cart.title')}</PageHeading>
        <p>
          {t('cart.empty')} <Link to="/">{t('cart.browse')}</Link>
        </p>
      </section>
    );
  }
  const blocked = items.some((i) => lineProblem(i) !== null);
  return (
    <section className="card">
      <PageHeading>{t('cart.title')}</PageHeading>
      <TableScroll>
        <table aria-label={t('cart.title')}>
          <thead>
            <tr>
              <th scope="col">{t('cart.item')}</th>
              <th scope="col">{t('cart.price')}</th>
              <th scope="col">{t('cart.quantity')}</th>
              <th scope="col">{t('cart.amount')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <CartLine key={`${item.sku.id}:${item.qty}`} item={item} />
            ))}
          </tbody>
        </table>
      </TableScroll>
      <p className="total">{t('cart.subtotal', { amount: money(subtotal) })}</p>
      {blocked ? (
        <p role="alert" className="alert">
          {t('cart.fixFirst')}
        </p>
      ) : (
        <p>
          <Link to="/checkout" className="button">
            {t('cart.checkout')}
          </Link>
        </p>
      )}
    </section>
  );
}

export function CartPage() {
  return (
    <RequireSignIn>
      <Cart />
    </RequireSignIn>
  );
}
