import { defineEntity, p, type InferEntity } from '@shop/kit';

export const ProductEntity = defineEntity({
  name: 'Product',
  tableName: 'product',
  properties: {
    id: p.string().primary(),
    title: p.string(),
    description: p.text(),
    images: p.string().array(),
    category: p.string().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export const SkuEntity = defineEntity({
  name: 'Sku',
  tableName: 'sku',
  properties: {
    id: p.string().primary(),
    productId: p.string(),
    title: p.string(),
    priceAmount: p.integer(),
    currency: p.string(),
    flashSale: p.boolean(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export type ProductRow = InferEntity<typeof ProductEntity>;
export type SkuRow = InferEntity<typeof SkuEntity>;
export const entities = [ProductEntity, SkuEntity];
