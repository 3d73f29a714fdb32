import { useEffect, useMemo } from 'react';
import { Provider, useQuery } from 'urql';
import { CartDocument } from './gql/graphql';
import { createGraphQLClient } from './graphql-client';
import { CartPage } from './pages/CartPage';
import { CatalogPage } from './pages/CatalogPage';
import { CheckoutPage } from './pages/CheckoutPage';
import { OrderPage } from './pages/OrderPage';
import { OrdersPage } from './pages/OrdersPage';
import { ProductPage } from './pages/ProductPage';
import { SignInPage } from './pages/SignInPage';
import { Link, matchPath, useLocation } from './router';
import { useSession } from './session';

function CartLink() {
  const [{ data }] = useQuery({ query: CartDocument });
  const count = data?.cart.items.reduce((sum, i) => sum + i.qty, 0) ?? 0;
  return <Link to="/cart">Cart{count > 0 ? ` (${count})` : ''}</Link>;
}

function Header() {
  const { session, signOut } = useSession();
  return (
    <header className="site-header">
      <Link to="/" className="brand">
        Shop
      </Link>
      <nav aria-label="Main">
        <Link to="/">Catalog</Link>
        {session ? <CartLink /> : null}
        {session ? <Link to="/orders">Orders</Link> : null}
      </nav>
      <div className="session">
        {session ? (
          <>
            <span aria-label="Signed in as">{session.userId}</span>{' '}
            <button type="button" className="link" onClick={signOut}>
              Sign out
            </button>
          </>
        ) : (
          <Link to="/sign-in">Sign in</Link>
        )}
      </div>
    </header>
  );
}

function Routes() {
  const { path } = useLocation();
  let params: Record<string, string> | null;
  if (path === '/') return <CatalogPage />;
  if (path === '/sign-in') return <SignInPage />;
  if (path === '/cart') return <CartPage />;
  if (path === '/checkout') return <CheckoutPage />;
  if (path === '/orders') return <OrdersPage />;
  if ((params = matchPath('/orders/:id', path))) return <OrderPage key={params.id} id={params.id!} />;
  if ((params = matchPath('/products/:id', path))) return <ProductPage key={params.id} id={params.id!} />;
  return (
    <section className="card">
      <h1>Page not found</h1>
      <Link to="/">Back to the catalog</Link>
    </section>
  );
}

export function App() {
  const { session } = useSession();
  const token = session?.token ?? null;
  // One GraphQL client (and subscription socket) per token: signing in or out starts afresh.
  const graphql = useMemo(() => createGraphQLClient(token), [token]);
  useEffect(() => () => graphql.dispose(), [graphql]);
  return (
    <Provider value={graphql.client}>
      <Header />
      <main>
        <Routes />
      </main>
    </Provider>
  );
}
