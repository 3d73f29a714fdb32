import { defineEntity, messagingEntities, p } from '@shop/kit';
import { CancelReason, OrderStatus } from '@shop/schema';
import { riskEntities } from './risk/entities.js';

export const REFUND_REQUEST_STATUSES = ['PENDING_APPROVAL', 'REQUESTED', 'SUCCEEDED', 'FAILED', 'REJECTED'] as const;

const currency = () => p.string().columnType('char(3)');

/** Addresses; name, phone and street are stored encrypted (addresses.ts). */
export const AddressEntity = defineEntity({
  name: 'Address',
  tableName: 'address',
  properties: {
    id: p.text().primary(),
    userId: p.text(),
    nameEnc: p.text(),
    phoneEnc: p.text(),
    line1Enc: p.text().fieldName('line1_enc'),
    city: p.text(),
    country: p.string().columnType('char(2)'),
    createdAt: p.datetime().defaultRaw('now()'),
    /** Removed by its owner: hidden from them and from new previews, kept for the orders that ship to it. */
    removedAt: p.datetime().nullable(),
  },
  indexes: [{ name: 'address_user_idx', properties: ['userId', 'id'] }],
});

export const CouponEntity = defineEntity({
  name: 'Coupon',
  tableName: 'coupon',
  properties: {
    code: p.text().primary(),
    kind: p.enum(['FIXED', 'PERCENT', 'THRESHOLD']),
    amountOff: p.integer().default(0),
    percentOff: p.integer().default(0),
    cap: p.integer().default(0),
    minSpend: p.integer().default(0),
    currency: currency(),
    validFrom: p.datetime(),
    validTo: p.datetime(),
    perUserLimit: p.integer().default(0),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
  checks: [
    { property: 'amountOff', expression: 'amount_off >= 0' },
    { property: 'percentOff', expression: 'percent_off >= 0 AND percent_off <= 100' },
    { property: 'cap', expression: 'cap >= 0' },
    { property: 'minSpend', expression: 'min_spend >= 0' },
    { property: 'perUserLimit', expression: 'per_user_limit >= 0' },
  ],
});

/** Shipping fees per destination country; '*' is the rate of every other destination. */
export const ShippingRateEntity = defineEntity({
  name: 'ShippingRate',
  tableName: 'shipping_rate',
  properties: {
    destination: p.text().primary(),
    baseFee: p.integer(),
    perItemFee: p.integer(),
    freeOver: p.integer(),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
  checks: [
    { property: 'baseFee', expression: 'base_fee >= 0' },
    { property: 'perItemFee', expression: 'per_item_fee >= 0' },
    { property: 'freeOver', expression: 'free_over >= 0' },
  ],
});

export interface PreviewLine {
  skuId: string;
  qty: number;
  unitPrice: number;
}

/**
 * Orders, their items and their audit trail are range-partitioned by order id, i.e. by time (ids are
 * UUIDv7): Migration20261202110000_partitions creates the partitioned tables and the archive schema,
 * partitions.ts creates partitions ahead. The entities leave `partitionBy` out on purpose: the
 * partitions are created by that job as time passes, so no fixed list could describe them, and
 * MikroORM leaves a table's partitioning alone when its entity does not declare one.
 */
export const OrderEntity = defineEntity({
  name: 'Order',
  tableName: 'orders',
  properties: {
    id: p.text().primary(),
    userId: p.text(),
    status: p.enum(OrderStatus),
    cancelReason: p.enum(CancelReason).nullable(),
    currency: currency(),
    total: p.integer(),
    discount: p.integer(),
    shippingFee: p.integer(),
    payable: p.integer(),
    couponCode: p.text().nullable(),
    addressId: p.text().nullable(),
    previewId: p.text(),
    flashSale: p.boolean(),
    expireAt: p.datetime(),
    version: p.integer().default(1),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
    deviceId: p.text().nullable(),
    clientIp: p.text().nullable(),
    riskReview: p.boolean().default(false),
  },
  checks: [
    { property: 'total', expression: 'total >= 0' },
    { property: 'discount', expression: 'discount >= 0' },
    { property: 'shippingFee', expression: 'shipping_fee >= 0' },
    { property: 'payable', expression: 'payable >= 0' },
    { name: 'orders_check', expression: "(status = 'CANCELED') = (cancel_reason IS NOT NULL)" },
  ],
  indexes: [
    // SQL string: the index's DDL, so MikroORM compares it as the migration wrote it (id DESC).
    { name: 'orders_user_idx', expression: 'CREATE INDEX orders_user_idx ON ordering.orders USING btree (user_id, id DESC)' },
    { name: 'orders_expiry_idx', properties: ['expireAt'], where: "status IN ('CREATED', 'PENDING_PAYMENT')" },
    { name: 'orders_user_created_idx', properties: ['userId', 'createdAt'] },
    { name: 'orders_client_ip_created_idx', properties: ['clientIp', 'createdAt'], where: 'client_ip IS NOT NULL' },
    { name: 'orders_device_created_idx', properties: ['deviceId', 'createdAt'], where: 'device_id IS NOT NULL' },
    { name: 'orders_risk_review_idx', properties: ['createdAt'], where: 'risk_review' },
    { name: 'orders_in_review_idx', properties: ['id'], where: "status = 'REVIEW'" },
  ],
});

export const OrderItemEntity = defineEntity({
  name: 'OrderItem',
  tableName: 'order_item',
  properties: {
    orderId: () => p.manyToOne(OrderEntity).primary().mapToPk().fieldName('order_id'),
    skuId: p.text().primary(),
    qty: p.integer(),
    unitPrice: p.integer(),
  },
  checks: [
    { property: 'qty', expression: 'qty > 0' },
    { property: 'unitPrice', expression: 'unit_price >= 0' },
  ],
});

/** Idempotency of placeOrder: the primary key, not a read, decides which request creates the order. */
export const OrderRequestEntity = defineEntity({
  name: 'OrderRequest',
  tableName: 'order_request',
  properties: {
    userId: p.text().primary(),
    clientReqId: p.text().primary(),
    orderId: () => p.manyToOne(OrderEntity).mapToPk().fieldName('order_id').deferMode('deferred'),
    previewId: p.text(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
});

/** Uses of a coupon; they stay when their order is archived (the per-user limits count them), so order_id is a plain reference. */
export const CouponUseEntity = defineEntity({
  name: 'CouponUse',
  tableName: 'coupon_use',
  properties: {
    code: () => p.manyToOne(CouponEntity).primary().mapToPk().fieldName('code').deleteRule('no action').updateRule('no action'),
    userId: p.text(),
    orderId: p.text().primary(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [{ name: 'coupon_use_user_idx', properties: ['code', 'userId'] }],
});

/** The audit trail of every order transition and of the facts recorded beside them. */
export const OrderEventEntity = defineEntity({
  name: 'OrderEvent',
  tableName: 'order_event',
  properties: {
    // The order's id first: the table is partitioned by it, and a partitioned table's key includes it.
    orderId: () => p.manyToOne(OrderEntity).primary().mapToPk().fieldName('order_id'),
    id: p.text().primary(),
    eventType: p.text(),
    fromStatus: p.text().nullable(),
    toStatus: p.text(),
    version: p.integer(),
    payload: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    createdAt: p.datetime().defaultRaw('clock_timestamp()'),
  },
  indexes: [{ name: 'order_event_order_idx', columns: [{ name: 'order_id' }, { name: 'created_at', sort: 'DESC' }] }],
});

export const RefundRequestEntity = defineEntity({
  name: 'RefundRequest',
  tableName: 'refund_request',
  properties: {
    id: p.text().primary(),
    orderId: () => p.manyToOne(OrderEntity).mapToPk().fieldName('order_id'),
    userId: p.text(),
    amount: p.integer(),
    currency: currency(),
    reason: p.text(),
    status: p.enum(REFUND_REQUEST_STATUSES),
    restock: p.boolean(),
    decidedBy: p.text().nullable(),
    error: p.text().nullable(),
    version: p.integer().default(1),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
    // For a partly shipped order: the stopped parcels' quantities, which return to stock when the money is back.
    restockItems: p.json<{ skuId: string; warehouseId: string; qty: number }[]>().nullable(),
  },
  checks: [{ property: 'amount', expression: 'amount > 0' }],
  // One live refund per order: a failed or rejected one may be asked for again.
  uniques: [{ name: 'refund_request_live_idx', properties: ['orderId'], where: "status IN ('PENDING_APPROVAL', 'REQUESTED', 'SUCCEEDED')" }],
});

/**
 * The order subgraph's copy of the catalog's SKU facts (prices.ts): kept current by catalog.sku-changed
 * (a row changes only for a newer revision), filled from the catalog on a miss. Previews and
 * placements price from it instead of asking the catalog each time.
 */
export const SkuPriceEntity = defineEntity({
  name: 'SkuPrice',
  tableName: 'sku_price',
  properties: {
    skuId: p.text().primary(),
    productId: p.text(),
    title: p.text(),
    flashSale: p.boolean(),
    flashSaleStartsAt: p.datetime().nullable(),
    price: p.integer(),
    currency: currency(),
    /** The catalog's revision of these facts: a row is replaced only by a newer one. */
    revision: p.integer(),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
  checks: [
    { property: 'price', expression: 'price >= 0' },
    { property: 'revision', expression: 'revision >= 1' },
  ],
});

export const entities = [
  ...messagingEntities,
  SkuPriceEntity,
  AddressEntity,
  CouponEntity,
  ShippingRateEntity,
  OrderEntity,
  OrderItemEntity,
  OrderRequestEntity,
  CouponUseEntity,
  OrderEventEntity,
  RefundRequestEntity,
  ...riskEntities,
] as const;
