import { defineEntity, p } from '@shop/kit';

/**
 * The ORM's view of the payment table. Reads and writes go through raw SQL in the domain
 * functions (row locks, conditional updates); the entity is what the ORM needs to start.
 */
export const PaymentEntity = defineEntity({
  name: 'Payment',
  tableName: 'payment',
  properties: {
    id: p.string().primary(),
    orderId: p.string(),
    userId: p.string(),
    amount: p.integer(),
    currency: p.string(),
    status: p.string(),
    pspIntentId: p.string().nullable(),
    checkoutUrl: p.string().nullable(),
    paymentTxnId: p.string().nullable(),
    flaggedReason: p.string().nullable(),
    version: p.integer(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

export const entities = [PaymentEntity];
