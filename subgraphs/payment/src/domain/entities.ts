import { defineEntity, messagingEntities, p } from '@shop/kit';
import { PAYMENT_KEY_SYNC } from './partitions.js';

export const PAYMENT_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED'] as const;
export const REFUND_STATUSES = ['REQUESTED', 'SUCCEEDED', 'FAILED'] as const;

/**
 * The payment tables: payments (partitioned by id, domain/partitions.ts) and their keys, provider
 * callbacks (idempotent per txn and status), refunds, the audit trail.
 */
export const PaymentEntity = defineEntity({
  name: 'Payment',
  tableName: 'payment',
  properties: {
    id: p.text().primary(),
    orderId: p.text(),
    userId: p.text(),
    amount: p.integer(),
    currency: p.string().columnType('char(3)'),
    status: p.enum(PAYMENT_STATUSES),
    pspIntentId: p.text().nullable(),
    checkoutUrl: p.text().nullable(),
    paymentTxnId: p.text().nullable(),
    flaggedReason: p.text().nullable(),
    version: p.integer().default(1),
    createdAt: p.datetime().defaultRaw('clock_timestamp()'),
    updatedAt: p.datetime().defaultRaw('clock_timestamp()'),
    // When the order of a still-PENDING payment was canceled: an operator case (operator-cases.ts).
    orderClosedAt: p.datetime().nullable(),
  },
  // Keeps the key table in step (partitions.ts).
  triggers: [{ name: 'payment_key_sync', timing: 'after', events: ['insert', 'update', 'delete'], expression: PAYMENT_KEY_SYNC }],
  checks: [{ property: 'amount', expression: 'amount > 0' }],
  indexes: [
    { name: 'payment_order_idx', columns: [{ name: 'order_id' }, { name: 'created_at', sort: 'DESC' }] },
    { name: 'payment_updated_idx', properties: ['updatedAt'] },
    { name: 'payment_abandoned_idx', properties: ['orderClosedAt'], where: "status = 'PENDING' AND order_closed_at IS NOT NULL" },
  ],
});

/**
 * One row per payment, unpartitioned, kept in step by the trigger payment_key_sync: the unique
 * constraints of payments that must hold across partitions, and the payments of an order.
 */
export const PaymentKeyEntity = defineEntity({
  name: 'PaymentKey',
  tableName: 'payment_key',
  properties: {
    paymentId: p.text().primary(),
    orderId: p.text(),
    // status PENDING or SUCCEEDED
    active: p.boolean(),
    paymentTxnId: p.text().nullable(),
  },
  indexes: [{ name: 'payment_key_order_idx', properties: ['orderId'] }],
  uniques: [
    // One active payment per order: a second payOrder finds this one instead of charging twice.
    { name: 'payment_one_active_per_order', properties: ['orderId'], where: 'active' },
    { name: 'payment_txn_idx', properties: ['paymentTxnId'], where: 'payment_txn_id IS NOT NULL' },
  ],
});

export const PaymentCallbackEntity = defineEntity({
  name: 'PaymentCallback',
  tableName: 'payment_callback',
  properties: {
    eventId: p.text().primary(),
    paymentTxnId: p.text(),
    paymentId: p.text(),
    status: p.enum(['SUCCEEDED', 'FAILED', 'REFUNDED']),
    amount: p.integer(),
    currency: p.text(),
    occurredAt: p.datetime(),
    raw: p.json<unknown>(),
    source: p.enum(['provider', 'reconciliation']).default('provider'),
    receivedAt: p.datetime().defaultRaw('clock_timestamp()'),
    outcome: p.text().nullable(),
  },
  // The provider re-sends one paymentTxnId with status REFUNDED for a refund: the key is both.
  uniques: [{ properties: ['paymentTxnId', 'status'] }],
  indexes: [{ name: 'payment_callback_payment_idx', properties: ['paymentId'] }],
});

export const RefundEntity = defineEntity({
  name: 'Refund',
  tableName: 'refund',
  properties: {
    id: p.text().primary(),
    paymentId: () => p.manyToOne(PaymentEntity).mapToPk().fieldName('payment_id'),
    orderId: p.text(),
    amount: p.integer(),
    currency: p.string().columnType('char(3)'),
    status: p.enum(REFUND_STATUSES),
    reason: p.text(),
    kind: p.enum(['AFTER_SALE', 'COMPENSATION']),
    pspRefundId: p.text().nullable(),
    error: p.text().nullable(),
    version: p.integer().default(1),
    createdAt: p.datetime().defaultRaw('clock_timestamp()'),
    updatedAt: p.datetime().defaultRaw('clock_timestamp()'),
  },
  checks: [{ property: 'amount', expression: 'amount > 0' }],
  indexes: [{ name: 'refund_payment_idx', properties: ['paymentId'] }],
});

export const PaymentEventEntity = defineEntity({
  name: 'PaymentEvent',
  tableName: 'payment_event',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    paymentId: p.text(),
    type: p.text(),
    payload: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    createdAt: p.datetime().defaultRaw('clock_timestamp()'),
  },
  indexes: [{ name: 'payment_event_payment_idx', properties: ['paymentId', 'id'] }],
});

export const entities = [...messagingEntities, PaymentEntity, PaymentKeyEntity, PaymentCallbackEntity, RefundEntity, PaymentEventEntity] as const;
