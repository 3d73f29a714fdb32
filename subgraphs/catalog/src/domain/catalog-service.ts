import { type EntityManager, decodeCursor, groupBy, newId } from '@shop/kit';
import { db } from '../persistence.js';
import { ProductEntity, SkuEntity, type ProductRow, type SkuRow } from './entities.js';
import { toSearchQuery, type NewProduct } from './validation.js';

/** Lists products newest first, after a cursor, optionally matching a full-text search (GIN index). */
export interface ProductSummary {
  id: string;
  title: string;
  description: string;
}

export async function listProducts(em: EntityManager, limit: number, after: string | undefined, search: string | undefined): Promise<ProductSummary[]> {
  const tsquery = search ? toSearchQuery(search) : null;
  if (search && !tsquery) return [];
  return db(em)
    .selectFrom('product')
    .select(['id', 'title', 'description'])
    .$if(after !== undefined, (q) => q.where('id', '<', decodeCursor(after!)))
    .$if(tsquery !== null, (q) => q.where((eb) => eb('search', '@@', eb.fn<string>('to_tsquery', [eb.val('simple'), eb.val(tsquery)]))))
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export async function productsByIds(em: EntityManager, ids: readonly string[]): Promise<Map<string, ProductRow>> {
  const rows = await em.find(ProductEntity, { id: { $in: [...ids] } });
  return new Map(rows.map((r) => [r.id, r]));
}

export async function skusByIds(em: EntityManager, ids: readonly string[]): Promise<Map<string, SkuRow>> {
  const rows = await em.find(SkuEntity, { id: { $in: [...ids] } });
  return new Map(rows.map((r) => [r.id, r]));
}

export async function skusByProducts(em: EntityManager, productIds: readonly string[]): Promise<Map<string, SkuRow[]>> {
  const rows = await em.find(SkuEntity, { productId: { $in: [...productIds] } }, { orderBy: { id: 'asc' } });
  return groupBy(rows, (r) => r.productId);
}

/** Creates a product and its SKUs in one transaction. */
export async function createProduct(em: EntityManager, input: NewProduct, ids?: { productId: string; skuIds: string[] }): Promise<ProductRow> {
  return em.transactional(async (tx) => {
    const product = tx.create(ProductEntity, { id: ids?.productId ?? newId('prd'), title: input.title, description: input.description });
    await tx.flush(); // the SKUs reference it: insert it first
    input.skus.forEach((sku, i) => {
      tx.create(SkuEntity, {
        id: ids?.skuIds[i] ?? newId('sku'),
        productId: product.id,
        title: sku.title,
        priceAmount: sku.price,
        currency: sku.currency,
        flashSale: sku.flashSale ?? false,
      });
    });
    return product;
  });
}
