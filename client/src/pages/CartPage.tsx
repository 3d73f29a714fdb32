import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { CartDocument, SetCartItemQtyDocument, type CartFieldsFragment } from '../gql/graphql';
import { ErrorAlert, Loading, Money, RequireSignIn } from '../components/ui';
import { Link } from '../router';

type Item = CartFieldsFragment['items'][number];

function CartLine({ item }: { item: Item }) {
  const [qty, setQty] = useState(String(item.qty));
  const [result, setCartItemQty] = useMutation(SetCartItemQtyDocument);
  const title = `${item.sku.product.title} — ${item.sku.title}`;
  const parsed = Number(qty);
  const valid = Number.isInteger(parsed) && parsed >= 0 && parsed <= 99;

  return (
    <tr>
      <th scope="row">
        <Link to={`/products/${item.sku.product.id}`}>{title}</Link>
        {item.sku.available < item.qty ? <div className="stock stock-out">Only {Math.max(0, item.sku.available)} left</div> : null}
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
            <span className="visually-hidden">Quantity of {title}</span>
            <input type="number" min={0} max={99} className="qty" value={qty} onChange={(e) => setQty(e.target.value)} aria-label={`Quantity of ${title}`} />
          </label>
          <button type="submit" disabled={!valid || parsed === item.qty || result.fetching}>
            Update
          </button>
          <button
            type="button"
            className="secondary"
            disabled={result.fetching}
            onClick={() => void setCartItemQty({ skuId: item.sku.id, qty: 0 })}
            aria-label={`Remove ${title}`}
          >
            Remove
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
  const [{ data, fetching, error }] = useQuery({ query: CartDocument });
  if (error) return <ErrorAlert error={error} />;
  if (!data) return fetching ? <Loading /> : null;
  const { items, subtotal } = data.cart;
  if (items.length === 0) {
    return (
      <section className="card">
        <h1>Your cart</h1>
        <p>
          Your cart is empty. <Link to="/">Browse products</Link>
        </p>
      </section>
    );
  }
  return (
    <section className="card">
      <h1>Your cart</h1>
      <table aria-label="Cart items">
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">Price</th>
            <th scope="col">Quantity</th>
            <th scope="col">Amount</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <CartLine key={`${item.sku.id}:${item.qty}`} item={item} />
          ))}
        </tbody>
      </table>
      <p className="total">
        Subtotal: <Money value={subtotal} />
      </p>
      <p>
        <Link to="/checkout" className="button">
          Checkout
        </Link>
      </p>
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
