import { type EntityManager, groupBy, newId } from '@shop/kit';
import { ProductEntity, SkuEntity, type ProductRow, type SkuRow } from './entities.js';
import type { NewProduct } from './validation.js';

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
    const product = tx.create(ProductEntity, {
      id: ids?.productId ?? newId('prd'),
      title: input.title,
      description: input.description,
      images: input.images ?? [],
      category: input.category ?? null,
    });
    await tx.flush(); // the SKUs reference it: insert it first
    input.skus.forEach((sku, i) => {
      tx.create(SkuEntity, {
        id: ids?.skuIds[i] ?? newId('sku'),
        productId: product.id,
        title: sku.title,
        priceAmount: sku.price,
        currency: sku.currency,
        flashSale: sku.flashSale ?? false,
        flashSaleStartsAt: sku.flashSaleStartsAt ?? null,
      });
    });
    return product;
  });
}
