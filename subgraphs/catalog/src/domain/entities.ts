import { defineEntity, messagingEntities, p, type InferEntity, type Opt } from '@shop/kit';

/** Products and their SKUs; `search` is the full-text document PostgreSQL keeps up to date. */
export const ProductEntity = defineEntity({
  name: 'Product',
  tableName: 'product',
  properties: {
    id: p.text().primary(),
    title: p.text(),
    description: p.text(),
    createdAt: p.datetime().defaultRaw('now()'),
    search: p.type('tsvector').generated("to_tsvector('simple'::regconfig, ((title || ' '::text) || description)) stored").$type<Opt<string>>(),
    images: p.text().array().defaultRaw(`'{}'::text[]`),
    category: p.text().nullable(),
  },
  checks: [
    { property: 'title', expression: 'length(title) >= 1 AND length(title) <= 200' },
    { property: 'description', expression: 'length(description) <= 5000' },
    { property: 'images', expression: 'cardinality(images) <= 10' },
    { property: 'category', expression: "category ~ '^[a-z][a-z0-9-]{0,39}$'" },
  ],
  indexes: [
    { name: 'product_search_idx', properties: ['search'], type: 'gin' },
    { name: 'product_category_idx', properties: ['category', 'id'] },
  ],
});

export const SkuEntity = defineEntity({
  name: 'Sku',
  tableName: 'sku',
  properties: {
    id: p.text().primary(),
    productId: () => p.manyToOne(ProductEntity).mapToPk().fieldName('product_id'),
    title: p.text(),
    priceAmount: p.integer(),
    currency: p.string().columnType('char(3)'),
    flashSale: p.boolean().default(false),
    /** When a flash-sale SKU's sale opens; null: open as soon as it is stocked. */
    flashSaleStartsAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    /** Grows by one with every change of the SKU's facts: catalog.sku-changed carries it, so a copy keeps the newest. */
    revision: p.integer().default(1),
  },
  checks: [
    { property: 'title', expression: 'length(title) >= 1 AND length(title) <= 200' },
    { property: 'priceAmount', expression: 'price_amount >= 0' },
    { property: 'revision', expression: 'revision >= 1' },
  ],
  indexes: [{ name: 'sku_product_idx', properties: ['productId', 'id'] }],
});

export type ProductRow = InferEntity<typeof ProductEntity>;
export type SkuRow = InferEntity<typeof SkuEntity>;
export const entities = [ProductEntity, SkuEntity, ...messagingEntities] as const;
