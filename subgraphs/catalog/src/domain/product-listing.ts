import { badInput, decodeCursor, sql, type EntityManager } from '@shop/kit';
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

const KEY: Record<ProductSort, string> = {
  FEATURED: '(cardinality(p.images) > 0)::int',
  NEWEST: '0',
  PRICE_LOW_HIGH: '(SELECT coalesce(min(s.price_amount), 0) FROM sku s WHERE s.product_id = p.id)',
  PRICE_HIGH_LOW: '(SELECT coalesce(min(s.price_amount), 0) FROM sku s WHERE s.product_id = p.id)',
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

/** WHERE clauses of a filter; null when the search has no searchable word (nothing matches). */
function filterClauses(filter: ProductFilter): { where: string[]; params: unknown[] } | null {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.search) {
    const tsquery = toSearchQuery(filter.search);
    if (!tsquery) return null;
    where.push(`p.search @@ to_tsquery('simple', ?)`);
    params.push(tsquery);
  }
  if (filter.category) {
    where.push('p.category = ?');
    params.push(filter.category);
  }
  return { where, params };
}

export async function listProducts(em: EntityManager, sort: ProductSort, filter: ProductFilter, limit: number, after?: string): Promise<ProductListRow[]> {
  const clauses = filterClauses(filter);
  if (!clauses) return [];
  const { where, params } = clauses;
  const key = KEY[sort];
  const asc = ASCENDING[sort];
  if (after) {
    const cursor = parseCursor(after);
    where.push(`(${key}, p.id) ${asc ? '>' : '<'} (?, ?)`);
    params.push(cursor.key, cursor.id);
  }
  const dir = asc ? 'ASC' : 'DESC';
  params.push(limit);
  return sql(em).all<ProductListRow>(
    `SELECT p.id, p.title, p.description, p.images, p.category, ${key} AS sort_key FROM product p
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY sort_key ${dir}, p.id ${dir} LIMIT ?`,
    params,
  );
}

export async function countProducts(em: EntityManager, filter: ProductFilter): Promise<number> {
  const clauses = filterClauses(filter);
  if (!clauses) return 0;
  const row = await sql(em).one<{ n: string }>(
    `SELECT count(*) AS n FROM product p ${clauses.where.length ? `WHERE ${clauses.where.join(' AND ')}` : ''}`,
    clauses.params,
  );
  return Number(row?.n ?? 0);
}

export interface CategoryCount {
  slug: string;
  productCount: number;
}

export async function listCategories(em: EntityManager): Promise<CategoryCount[]> {
  const rows = await sql(em).all<{ slug: string; n: string }>(
    'SELECT category AS slug, count(*) AS n FROM product WHERE category IS NOT NULL GROUP BY category ORDER BY category',
  );
  return rows.map((r) => ({ slug: r.slug, productCount: Number(r.n) }));
}
