import { defineEntity, p } from '@shop/kit';

/** Read models over the ordering tables (writes go through the domain functions' SQL). */
export const OrderEntity = defineEntity({
  name: 'Order',
  tableName: 'orders',
  properties: {
    id: p.string().primary(),
    userId: p.string(),
    status: p.string(),
    cancelReason: p.string().nullable(),
    currency: p.string(),
    total: p.integer(),
    discount: p.integer(),
    shippingFee: p.integer(),
    payable: p.integer(),
    couponCode: p.string().nullable(),
    addressId: p.string().nullable(),
    previewId: p.string(),
    flashSale: p.boolean(),
    expireAt: p.datetime(),
    version: p.integer(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

export const entities = [OrderEntity];
