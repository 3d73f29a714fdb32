import { useState, type FormEvent } from 'react';
import { useQuery } from 'urql';
import { ProductsDocument, type ProductsQuery } from '../gql/graphql';
import { ErrorAlert, LoadMore, Loading, Money, useCursorPages } from '../components/ui';
import { Link, navigate, useLocation } from '../router';

const PAGE_SIZE = 12;

type ProductNode = ProductsQuery['products']['edges'][number]['node'];

function cheapest(product: ProductNode) {
  return product.skus.map((s) => s.price).sort((a, b) => a.amount - b.amount)[0];
}

/** One page of results; the last page offers "Load more" with its end cursor. */
function ResultPage({ search, after, isLast, onLoadMore }: { search: string; after: string | null; isLast: boolean; onLoadMore(cursor: string): void }) {
  const [{ data, fetching, error }] = useQuery({ query: ProductsDocument, variables: { first: PAGE_SIZE, after, search: search || null } });
  if (error) return <ErrorAlert error={error} />;
  if (!data) return fetching ? <Loading label="Loading products…" /> : null;
  const { edges, pageInfo } = data.products;
  return (
    <>
      {edges.length === 0 && after === null ? <p className="muted">No products match “{search}”.</p> : null}
      {edges.map(({ node }) => {
        const price = cheapest(node);
        return (
          <li key={node.id} className="product-card">
            <h2>
              <Link to={`/products/${node.id}`}>{node.title}</Link>
            </h2>
            <p className="muted">{node.description}</p>
            {price ? (
              <p>
                {node.skus.length > 1 ? 'from ' : ''}
                <Money value={price} />
              </p>
            ) : null}
          </li>
        );
      })}
      {isLast ? <LoadMore pageInfo={pageInfo} onLoadMore={onLoadMore} /> : null}
    </>
  );
}

export function CatalogPage() {
  const { query } = useLocation();
  const search = query.get('q') ?? '';
  const [text, setText] = useState(search);
  const [cursors, loadMore] = useCursorPages(search);

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    const q = text.trim();
    navigate(q ? `/?q=${encodeURIComponent(q)}` : '/');
  };

  return (
    <section>
      <h1>Products</h1>
      <form role="search" className="row" onSubmit={onSearch}>
        <label className="grow">
          <span className="visually-hidden">Search products</span>
          <input type="search" placeholder="Search products" aria-label="Search products" value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <button type="submit">Search</button>
      </form>
      <ul className="product-grid" aria-label="Products">
        {cursors.map((after, index) => (
          <ResultPage key={`${search}:${after ?? ''}`} search={search} after={after} isLast={index === cursors.length - 1} onLoadMore={loadMore} />
        ))}
      </ul>
    </section>
  );
}
