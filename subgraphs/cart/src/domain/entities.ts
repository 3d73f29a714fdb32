import { defineEntity, p, type InferEntity } from '@shop/kit';

/** A line of a user's cart. Writes go through the conditional statements of cart-service.ts. */
export const CartLineEntity = defineEntity({
  name: 'CartLine',
  tableName: 'cart_line',
  properties: {
    userId: p.string().primary(),
    skuId: p.string().primary(),
    qty: p.integer(),
    currency: p.string(),
    addedAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

export type CartLineRow = InferEntity<typeof CartLineEntity>;
export const entities = [CartLineEntity];
