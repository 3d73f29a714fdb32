import { defineEntity, p } from '@shop/kit';

/** A line of a user's cart; `currency` is the SKU's currency when added (a cart holds one currency). */
export const CartLineEntity = defineEntity({
  name: 'CartLine',
  tableName: 'cart_line',
  properties: {
    userId: p.text().primary(),
    skuId: p.text().primary(),
    qty: p.integer(),
    currency: p.string().columnType('char(3)'),
    addedAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
  checks: [{ property: 'qty', expression: 'qty >= 1 AND qty <= 99' }],
});

export const entities = [CartLineEntity] as const;
