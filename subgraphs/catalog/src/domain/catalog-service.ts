import { type EntityManager, DomainError, ErrorCode, emit, groupBy, newId } from '@shop/kit';
import { ProductEntity, SkuEntity, type ProductRow, type SkuRow } from './entities.js';
import type { NewProduct, SkuChange } from './validation.js';
import { db } from '../persistence.js';

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

interface SkuFactsRow {
  id: string;
  productId: string;
  title: string;
  priceAmount: number;
  currency: string;
  flashSale: boolean;
  flashSaleStartsAt?: Date | string | null;
  revision: number;
}

/** catalog.sku-changed for a SKU as it now is, in the caller's transaction (the order subgraph's price copy reads it). */
async function emitSkuChanged(tx: EntityManager, sku: SkuFactsRow, correlationId: string): Promise<void> {
  await emit(tx, {
    type: 'catalog.sku-changed',
    aggregateId: sku.id,
    correlationId,
    payload: {
      skuId: sku.id,
      productId: sku.productId,
      title: sku.title,
      flashSale: sku.flashSale,
      flashSaleStartsAt: sku.flashSaleStartsAt ? new Date(sku.flashSaleStartsAt).toISOString() : null,
      price: { amount: sku.priceAmount, currency: sku.currency.trim() },
      revision: sku.revision,
    },
  });
}

/** `catalog.product-changed` of a product and all its SKUs, in the caller's transaction. */
async function emitProductChanged(tx: EntityManager, productId: string, skuIds: string[], correlationId: string): Promise<void> {
  await emit(tx, { type: 'catalog.product-changed', aggregateId: productId, correlationId, payload: { productId, skuIds } });
}

/** Creates a product and its SKUs in one transaction, with their catalog.sku-changed and catalog.product-changed events. */
export async function createProduct(em: EntityManager, input: NewProduct, correlationId: string): Promise<ProductRow> {
  return em.transactional(async (tx) => {
    const product = tx.create(ProductEntity, {
      id: newId('prd'),
      title: input.title,
      description: input.description,
      images: input.images ?? [],
      category: input.category ?? null,
    });
    await tx.flush(); // the SKUs reference it: insert it first
    const skus = input.skus.map((sku) =>
      tx.create(SkuEntity, {
        id: newId('sku'),
        productId: product.id,
        title: sku.title,
        priceAmount: sku.price,
        currency: sku.currency,
        flashSale: sku.flashSale ?? false,
        flashSaleStartsAt: sku.flashSaleStartsAt ?? null,
        revision: 1,
      }),
    );
    await tx.flush();
    for (const sku of skus) await emitSkuChanged(tx, sku, correlationId);
    await emitProductChanged(
      tx,
      product.id,
      skus.map((s) => s.id),
      correlationId,
    );
    return product;
  });
}

/**
 * Changes a SKU's facts (price, title, flash-sale start) and bumps its revision, with
 * catalog.sku-changed and catalog.product-changed in the same transaction. Orders previewed at the
 * old price are refused at placement once the order subgraph's copy has the new one (PREVIEW_EXPIRED).
 */
export async function updateSku(em: EntityManager, skuId: string, change: SkuChange, correlationId: string): Promise<SkuRow> {
  return em.transactional(async (tx) => {
    const row = await db(tx)
      .updateTable('sku')
      .set((eb) => ({
        ...(change.title !== undefined ? { title: change.title } : {}),
        ...(change.price !== undefined ? { price_amount: change.price } : {}),
        ...(change.currency !== undefined ? { currency: change.currency } : {}),
        ...(change.flashSaleStartsAt !== undefined ? { flash_sale_starts_at: change.flashSaleStartsAt } : {}),
        revision: eb('revision', '+', 1),
      }))
      .where('id', '=', skuId)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new DomainError(ErrorCode.BAD_USER_INPUT, `SKU ${skuId} does not exist`, { field: 'id' });
    if (row.flash_sale_starts_at && !row.flash_sale)
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'flashSaleStartsAt is for flash-sale SKUs only', { field: 'flashSaleStartsAt' });
    const sku: SkuRow = {
      id: row.id,
      productId: row.product_id,
      title: row.title,
      priceAmount: row.price_amount,
      currency: row.currency,
      flashSale: row.flash_sale,
      flashSaleStartsAt: row.flash_sale_starts_at ? new Date(row.flash_sale_starts_at) : null,
      createdAt: new Date(row.created_at),
      revision: row.revision,
    };
    await emitSkuChanged(tx, sku, correlationId);
    const siblings = await db(tx).selectFrom('sku').select('id').where('product_id', '=', row.product_id).orderBy('id').execute();
    await emitProductChanged(
      tx,
      row.product_id,
      siblings.map((s) => s.id),
      correlationId,
    );
    return sku;
  });
}
