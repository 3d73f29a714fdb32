import { useState, type FormEvent } from 'react';
import { useQuery } from 'urql';
import { CategoriesDocument, ProductsDocument, type ProductSort, type ProductsQuery } from '../gql/graphql';
import { ErrorAlert, LoadMore, Loading, Money, PageHeading, ProductImage, useCursorPages } from '../components/ui';
import { useI18n } from '../i18n/i18n';
import type { MessageKey } from '../i18n/messages';
import { Link, navigate, useLocation } from '../router';

const PAGE_SIZE = 12;
const SORTS: readonly ProductSort[] = ['FEATURED', 'NEWEST', 'PRICE_LOW_HIGH', 'PRICE_HIGH_LOW'];
const isSort = (value: string | null): value is ProductSort => value !== null && (SORTS as readonly string[]).includes(value);

type ProductNode = ProductsQuery['products']['edges'][number]['node'];

function cheapest(product: ProductNode) {
  return product.skus.map((s) => s.price).sort((a, b) => a.amount - b.amount)[0];
}

/** A category's name in the shopper's language; an unknown slug reads as itself. */
export function useCategoryName(): (slug: string) => string {
  const { t } = useI18n();
  return (slug) => {
    const key = `category.${slug}` as MessageKey;
    const name = t(key);
    return name === key ? slug : name;
  };
}

interface Filter {
  search: string;
  category: string | null;
  sort: ProductSort;
}

function ProductCard({ node }: { node: ProductNode }) {
  const { t } = useI18n();
  const price = cheapest(node);
  const soldOut = node.skus.length > 0 && node.skus.every((s) => s.available <= 0);
  return (
    <li className="product-card">
      <ProductImage images={node.images} title={node.title} />
      {soldOut ? <span className="badge badge-soldout">{t('catalog.soldOut')}</span> : null}
      <h2>
        <Link to={`/products/${node.id}`}>{node.title}</Link>
      </h2>
      <p className="muted">{node.description}</p>
      {price ? <p className="price">{node.skus.length > 1 ? <FromPrice price={price} /> : <Money value={price} />}</p> : null}
    </li>
  );
}

function FromPrice({ price }: { price: { amount: number; currency: string } }) {
  const { t, money } = useI18n();
  return <span className="money">{t('catalog.from', { price: money(price) })}</span>;
}

const productsVariables = (filter: Filter, after: string | null) => ({
  first: PAGE_SIZE,
  after,
  search: filter.search || null,
  category: filter.category,
  sort: filter.sort,
});

/** How many products match: read from the first page's answer (the same query, so no second request). */
function ResultCount({ filter }: { filter: Filter }) {
  const { t, number } = useI18n();
  const [{ data }] = useQuery({ query: ProductsDocument, variables: productsVariables(filter, null) });
  const count = data?.products.totalCount;
  return (
    <p className="result-count" role="status">
      {count === undefined ? '' : count === 1 ? t('catalog.countOne') : t('catalog.count', { count: number(count) })}
    </p>
  );
}

/** One page of results; the last offers "Load more". */
function ResultPage({ filter, after, isLast, onLoadMore }: { filter: Filter; after: string | null; isLast: boolean; onLoadMore(cursor: string): void }) {
  const { t } = useI18n();
  const [{ data, fetching, error }, refetch] = useQuery({ query: ProductsDocument, variables: productsVariables(filter, after) });
  if (error && !data)
    return (
      <li className="full-row">
        <ErrorAlert error={error} onRetry={() => refetch({ requestPolicy: 'network-only' })} />
      </li>
    );
  if (!data)
    return fetching ? (
      <li className="full-row">
        <Loading />
      </li>
    ) : null;
  const { edges, pageInfo } = data.products;
  return (
    <>
      {edges.length === 0 && after === null ? (
        <li className="full-row muted">{filter.search ? t('catalog.noMatch', { search: filter.search }) : t('catalog.empty')}</li>
      ) : null}
      {edges.map(({ node }) => (
        <ProductCard key={node.id} node={node} />
      ))}
      {isLast ? <LoadMore pageInfo={pageInfo} onLoadMore={onLoadMore} /> : null}
    </>
  );
}

const catalogPath = (f: Filter): string => {
  const params = new URLSearchParams();
  if (f.search) params.set('q', f.search);
  if (f.category) params.set('category', f.category);
  if (f.sort !== 'FEATURED') params.set('sort', f.sort);
  const q = params.toString();
  return q ? `/?${q}` : '/';
};

function Categories({ filter }: { filter: Filter }) {
  const { t } = useI18n();
  const name = useCategoryName();
  const [{ data }] = useQuery({ query: CategoriesDocument });
  if (!data || data.categories.length === 0) return null;
  const chip = (slug: string | null, label: string) => (
    <li key={slug ?? ''}>
      <Link
        to={catalogPath({ ...filter, category: slug })}
        className={filter.category === slug ? 'chip chip-active' : 'chip'}
        aria-current={filter.category === slug ? 'page' : undefined}
      >
        {label}
      </Link>
    </li>
  );
  return (
    <nav aria-label={t('catalog.categories')}>
      <ul className="chips">
        {chip(null, t('catalog.allCategories'))}
        {data.categories.map((c) => chip(c.slug, name(c.slug)))}
      </ul>
    </nav>
  );
}

export function CatalogPage() {
  const { t } = useI18n();
  const { query } = useLocation();
  const search = query.get('q') ?? '';
  const category = query.get('category');
  const rawSort = query.get('sort');
  const sort: ProductSort = isSort(rawSort) ? rawSort : 'FEATURED';
  const key = `${search}|${category ?? ''}|${sort}`;
  const filter: Filter = { search, category, sort };
  const [text, setText] = useState(search);
  const [cursors, loadMore] = useCursorPages(key);

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    navigate(catalogPath({ ...filter, search: text.trim() }));
  };

  return (
    <section>
      <PageHeading>{t('catalog.title')}</PageHeading>
      <form role="search" className="row" onSubmit={onSearch}>
        <label className="grow">
          <span className="visually-hidden">{t('catalog.search')}</span>
          <input type="search" placeholder={t('catalog.search')} aria-label={t('catalog.search')} value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <button type="submit">{t('catalog.searchButton')}</button>
      </form>
      <div className="row toolbar">
        <Categories filter={filter} />
        <label className="sort">
          {t('catalog.sort')}{' '}
          <select value={sort} onChange={(e) => navigate(catalogPath({ ...filter, sort: e.target.value as ProductSort }))}>
            {SORTS.map((s) => (
              <option key={s} value={s}>
                {t(`catalog.sort.${s}`)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ResultCount filter={filter} />
      <ul className="product-grid" aria-label={t('catalog.title')}>
        {cursors.map((after, index) => (
          <ResultPage key={`${key}:${after ?? ''}`} filter={filter} after={after} isLast={index === cursors.length - 1} onLoadMore={loadMore} />
        ))}
      </ul>
    </section>
  );
}
