import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { ErrorAlert, Loading, PageHeading, TableScroll } from '../components/ui';
import { ConsoleStockDocument, SetStockDocument, type ConsoleStockQuery } from '../gql/graphql';
import { navigate, useLocation } from '../router';
import { NETWORK, useL } from './common';
import type { ScreenProps } from './ConsolePage';

type Sku = ConsoleStockQuery['products']['edges'][number]['node']['skus'][number];

function StockCell({ sku, warehouseId, onSaved }: { sku: Sku; warehouseId: string; onSaved(): void }) {
  const L = useL();
  const row = sku.stock.find((s) => s.warehouseId === warehouseId);
  const onHand = row ? row.available + row.reserved + row.sold : 0;
  const [value, setValue] = useState(String(onHand));
  const [result, setStock] = useMutation(SetStockDocument);
  const parsed = Number(value);
  const valid = Number.isInteger(parsed) && parsed >= 0;
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (valid) void setStock({ skuId: sku.id, warehouseId, onHand: parsed }).then((res) => !res.error && onSaved());
  };
  return (
    <td>
      <form className="row stock-cell" onSubmit={onSubmit}>
        <label>
          <span className="visually-hidden">{L(`On hand of ${sku.title} in ${warehouseId}`, `${sku.title} 在 ${warehouseId} 的在库数`)}</span>
          <input type="number" min={0} className="qty" value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        <button type="submit" className="secondary small-button" disabled={!valid || parsed === onHand || result.fetching}>
          {L('Set', '设置')}
        </button>
      </form>
      <div className="muted small">
        {row
          ? L(`${row.available} free · ${row.reserved} held · ${row.sold} sold`, `可用 ${row.available} · 预占 ${row.reserved} · 已售 ${row.sold}`)
          : L('no stock row', '无库存记录')}
      </div>
      <ErrorAlert error={result.error} />
    </td>
  );
}

/** Stock per SKU and warehouse; setStock sets the on-hand quantity (it never goes below what is held or sold). */
export function StockScreen({ title }: ScreenProps) {
  const L = useL();
  const { query } = useLocation();
  const search = query.get('q') ?? '';
  const [text, setText] = useState(search);
  const [{ data, error }, refetch] = useQuery({ query: ConsoleStockDocument, variables: { search: search || null, first: 20 } });
  const warehouses = data?.warehouses.map((w) => w.id) ?? [];
  return (
    <section className="card">
      <PageHeading>{title}</PageHeading>
      <form
        className="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(text.trim() ? `/admin/stock?q=${encodeURIComponent(text.trim())}` : '/admin/stock');
        }}
      >
        <label className="grow">
          {L('Product', '商品')}
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <button type="submit">{L('Search', '搜索')}</button>
      </form>
      <ErrorAlert error={error} onRetry={() => refetch(NETWORK)} />
      {!data && !error ? <Loading /> : null}
      {data ? (
        <TableScroll>
          <table aria-label={title}>
            <thead>
              <tr>
                <th scope="col">SKU</th>
                <th scope="col">{L('Available', '可用')}</th>
                {warehouses.map((w) => (
                  <th scope="col" key={w}>
                    {w}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.products.edges.flatMap(({ node }) =>
                node.skus.map((sku) => (
                  <tr key={sku.id}>
                    <th scope="row">
                      {node.title} — {sku.title}
                    </th>
                    <td>{sku.available}</td>
                    {warehouses.map((w) => (
                      <StockCell
                        key={`${w}:${sku.stock.map((s) => `${s.warehouseId}${s.available}${s.reserved}${s.sold}`).join()}`}
                        sku={sku}
                        warehouseId={w}
                        onSaved={() => refetch(NETWORK)}
                      />
                    ))}
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </TableScroll>
      ) : null}
    </section>
  );
}
