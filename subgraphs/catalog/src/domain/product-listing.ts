import { badInput, decodeCursor, type EntityManager, type ExpressionBuilder, type ExpressionWrapper } from '@shop/kit';
import { db, type Db } from '../persistence.js';
import { toSearchQuery } from './validation.js';

/**
 * The catalog's product list: filtered by full-text search and category, in one of four orders,
 * paged by keyset (the cursor holds the sort key and the id of the last row, so a product added
 * meanwhile never shifts a page).
 *
 * FEATURED (the default) shows curated products, those with images, first and then the newest;
 * products created without images (tests, drafts) come after them.
 */
export type ProductSort = 'FEATURED' | 'NEWEST' | 'PRICE_LOW_HIGH' | 'PRICE_HIGH_LOW';

export interface ProductListRow {
  id: string;
  title: string;
  description: string;
  images: string[];
  category: string | null;
  sort_key: number;
}

export interface ProductFilter {
  search?: string | undefined;
  category?: string | undefined;
}

type ProductDb = Db & { p: Db['product'] };
type ProductEb = ExpressionBuilder<ProductDb, 'p'>;
const minPrice = (eb: ProductEb) =>
  eb.fn.coalesce(
    eb
      .selectFrom('sku as s')
      .select((s) => s.fn.min<number>('s.price_amount').as('m'))
      .whereRef('s.product_id', '=', 'p.id'),
    eb.lit(0),
  );
/** The sort key of a product: curated (has images) first for FEATURED, its lowest SKU price for the price orders. */
const KEY: Record<ProductSort, (eb: ProductEb) => ExpressionWrapper<ProductDb, 'p', number>> = {
  FEATURED: (eb) => eb.cast<number>(eb(eb.fn('cardinality', ['p.images']), '>', 0), 'integer'),
  NEWEST: (eb) => eb.lit(0),
  PRICE_LOW_HIGH: minPrice,
  PRICE_HIGH_LOW: minPrice,
};
const ASCENDING: Record<ProductSort, boolean> = { FEATURED: false, NEWEST: false, PRICE_LOW_HIGH: true, PRICE_HIGH_LOW: false };

/** The cursor key of a row (toConnection encodes it). */
export const productKey = (row: ProductListRow): string => `${row.sort_key}|${row.id}`;

function parseCursor(after: string): { key: number; id: string } {
  const raw = decodeCursor(after);
  const bar = raw.lastIndexOf('|');
  const key = Number(raw.slice(0, bar));
  if (bar < 1 || !Number.isSafeInteger(key)) throw badInput(`after: "${after.slice(0, 40)}" is not a cursor of this list`, { field: 'after' });
  return { key, id: raw.slice(bar + 1) };
}

/** The products a filter keeps; null when the search has no searchable word (nothing matches). */
function filtered(em: EntityManager, filter: ProductFilter) {
  const tsquery = filter.search ? toSearchQuery(filter.search) : undefined;
  if (filter.search && !tsquery) return null;
  return db(em)
    .selectFrom('product as p')
    .$if(tsquery !== undefined, (q) => q.where((eb) => eb('p.search', '@@', eb.fn<string>('to_tsquery', [eb.val('simple'), eb.val(tsquery)]))))
    .$if(filter.category !== undefined && filter.category !== '', (q) => q.where('p.category', '=', filter.category!));
}

export async function listProducts(em: EntityManager, sort: ProductSort, filter: ProductFilter, limit: number, after?: string): Promise<ProductListRow[]> {
  const base = filtered(em, filter);
  if (!base) return [];
  const asc = ASCENDING[sort];
  const dir = asc ? 'asc' : 'desc';
  const cursor = after ? parseCursor(after) : undefined;
  const rows = await base
    .select((eb) => ['p.id', 'p.title', 'p.description', 'p.images', 'p.category', KEY[sort](eb as unknown as ProductEb).as('sort_key')])
    .$if(cursor !== undefined, (q) =>
      q.where((eb) =>
        eb(eb.tuple(KEY[sort](eb as unknown as ProductEb) as never, eb.ref('p.id')), asc ? '>' : '<', eb.tuple(cursor!.key as never, cursor!.id)),
      ),
    )
    .orderBy('sort_key', dir)
    .orderBy('p.id', dir)
    .limit(limit)
    .execute();
  return rows as unknown as ProductListRow[];
}

export async function countProducts(em: EntityManager, filter: ProductFilter): Promise<number> {
  const base = filtered(em, filter);
  if (!base) return 0;
  const row = await base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export interface CategoryCount {
  slug: string;
  productCount: number;
}

export async function listCategories(em: EntityManager): Promise<CategoryCount[]> {
  const rows = await db(em)
    .selectFrom('product')
    .select((eb) => ['category as slug', eb.fn.countAll<string>().as('n')])
    .where('category', 'is not', null)
    .groupBy('category')
    .orderBy('category')
    .execute();
  return rows.map((r) => ({ slug: r.slug!, productCount: Number(r.n) }));
}
