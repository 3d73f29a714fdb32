import { useCallback, useEffect, useMemo, useRef } from 'react';
import { Provider, useQuery } from 'urql';
import { ConsolePage } from './console/ConsolePage';
import { PageHeading } from './components/ui';
import { CartDocument } from './gql/graphql';
import { createGraphQLClient } from './graphql-client';
import { LOCALES, useI18n } from './i18n/i18n';
import { CartPage } from './pages/CartPage';
import { CatalogPage } from './pages/CatalogPage';
import { CheckoutPage } from './pages/CheckoutPage';
import { OrderPage } from './pages/OrderPage';
import { OrdersPage } from './pages/OrdersPage';
import { ProductPage } from './pages/ProductPage';
import { SignInPage } from './pages/SignInPage';
import { Link, currentPath, matchPath, navigate, useLocation } from './router';
import { useSession } from './session';

function CartLink() {
  const { t } = useI18n();
  const [{ data }] = useQuery({ query: CartDocument });
  const count = data?.cart.items.reduce((sum, i) => sum + i.qty, 0) ?? 0;
  return <Link to="/cart">{count > 0 ? t('nav.cartCount', { count }) : t('nav.cart')}</Link>;
}

function LanguageSwitch() {
  const { locale, setLocale, t } = useI18n();
  return (
    <label className="language">
      <span className="visually-hidden">{t('nav.language')}</span>
      <select value={locale} onChange={(e) => setLocale(e.target.value as (typeof LOCALES)[number])} aria-label={t('nav.language')}>
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l === 'zh' ? 'zh-CN' : 'en'}>
            {l === 'zh' ? '中文' : 'English'}
          </option>
        ))}
      </select>
    </label>
  );
}

function Header() {
  const { session, signOut } = useSession();
  const { t } = useI18n();
  const { path, query } = useLocation(); // the sign-in link comes back here
  const here = `${path}${query.toString() ? `?${query}` : ''}`;
  const isAdmin = session?.roles.includes('admin') ?? false;
  return (
    <header className="site-header">
      <Link to="/" className="brand">
        {t('app.name')}
      </Link>
      <nav aria-label={t('nav.main')}>
        <Link to="/">{t('nav.catalog')}</Link>
        {session ? <CartLink /> : null}
        {session ? <Link to="/orders">{t('nav.orders')}</Link> : null}
        {isAdmin ? <Link to="/admin">{t('nav.console')}</Link> : null}
      </nav>
      <div className="session">
        <LanguageSwitch />
        {session ? (
          <>
            <span aria-label={t('nav.signedInAs')}>{session.userId}</span>{' '}
            <button type="button" className="link" onClick={() => signOut()}>
              {t('nav.signOut')}
            </button>
          </>
        ) : (
          <Link to={path === '/sign-in' ? currentPath() : `/sign-in?next=${encodeURIComponent(here)}`}>{t('nav.signIn')}</Link>
        )}
      </div>
    </header>
  );
}

function NotFound() {
  const { t } = useI18n();
  return (
    <section className="card">
      <PageHeading>{t('common.notFound')}</PageHeading>
      <Link to="/">{t('common.backToCatalog')}</Link>
    </section>
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
  if (path === '/admin' || path.startsWith('/admin/')) return <ConsolePage path={path} />;
  if ((params = matchPath('/orders/:id', path))) return <OrderPage key={params.id} id={params.id!} />;
  if ((params = matchPath('/products/:id', path))) return <ProductPage key={params.id} id={params.id!} />;
  return <NotFound />;
}

export function App() {
  const { session, signOut } = useSession();
  const { t } = useI18n();
  const token = session?.token ?? null;
  // The gateway refused the token: sign out (the header says so too) and come back here after signing in.
  const onSessionRefused = useCallback(() => {
    const back = currentPath();
    signOut();
    if (!back.startsWith('/sign-in')) navigate(`/sign-in?expired=1&next=${encodeURIComponent(back)}`);
  }, [signOut]);
  const refusedRef = useRef(onSessionRefused);
  refusedRef.current = onSessionRefused;
  // One GraphQL client (and subscription socket) per token: signing in or out starts afresh.
  const graphql = useMemo(() => createGraphQLClient(token, () => refusedRef.current()), [token]);
  useEffect(() => () => graphql.dispose(), [graphql]);
  return (
    <Provider value={graphql.client}>
      <a className="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <Routes />
      </main>
    </Provider>
  );
}
