import { defineEntity, messagingEntities, p } from '@shop/kit';

/** The inventory tables: stock per SKU and warehouse, and reservations with one header per order. */
export const WarehouseEntity = defineEntity({
  name: 'Warehouse',
  tableName: 'warehouse',
  properties: {
    id: p.text().primary(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  checks: [{ property: 'id', expression: "id ~ '^[A-Za-z0-9_-]{1,64}$'" }],
});

export const StockEntity = defineEntity({
  name: 'Stock',
  tableName: 'stock',
  properties: {
    skuId: p.text().primary(),
    warehouse: () => p.manyToOne(WarehouseEntity).primary().mapToPk(),
    /** 0 for a normal SKU (one row per warehouse); a flash-sale SKU's stock is spread over buckets 0..N-1 (buckets.ts). */
    bucket: p.integer().primary().default(0),
    available: p.integer(),
    reserved: p.integer().default(0),
    sold: p.integer().default(0),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
  checks: [
    { name: 'stock_available_check', expression: 'available >= 0' },
    { name: 'stock_reserved_check', expression: 'reserved >= 0' },
    { name: 'stock_sold_check', expression: 'sold >= 0' },
    { name: 'stock_bucket_check', expression: 'bucket >= 0' },
  ],
});

export const RESERVATION_STATES = ['HOLD', 'CONFIRMED', 'RELEASED', 'REJECTED'] as const;

export const ReservationOrderEntity = defineEntity({
  name: 'ReservationOrder',
  tableName: 'reservation_order',
  properties: {
    orderId: p.text().primary(),
    state: p.enum(RESERVATION_STATES),
    expireAt: p.datetime(),
    shortages: p.json<{ skuId: string; requested: number; available: number }[]>().nullable(),
    version: p.integer().default(1),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [{ name: 'reservation_order_hold_expire_idx', properties: ['expireAt'], where: "state = 'HOLD'" }],
});

export const ReservationEntity = defineEntity({
  name: 'Reservation',
  tableName: 'reservation',
  properties: {
    id: p.text().primary(),
    order: () => p.manyToOne(ReservationOrderEntity).mapToPk().fieldName('order_id'),
    skuId: p.text(),
    warehouse: () => p.manyToOne(WarehouseEntity).mapToPk(),
    /** The stock bucket the units were taken from: confirm, release and return move them in that bucket. */
    bucket: p.integer().default(0),
    qty: p.integer(),
    /** Units of this CONFIRMED hold that a refund's stopped parcels gave back to available (returns.ts); sold counts qty - returned. */
    returned: p.integer().default(0),
    state: p.enum(['HOLD', 'CONFIRMED', 'RELEASED']),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
  checks: [
    { name: 'reservation_qty_check', expression: 'qty > 0' },
    { name: 'reservation_returned_check', expression: 'returned >= 0 and returned <= qty' },
  ],
  uniques: [{ properties: ['order', 'skuId', 'warehouse', 'bucket'] }],
  indexes: [{ name: 'reservation_stock_state_idx', properties: ['skuId', 'warehouse', 'state'] }],
});

/** The audit trail of every move of a reservation header (reservation-state.ts). */
export const ReservationEventEntity = defineEntity({
  name: 'ReservationEvent',
  tableName: 'reservation_event',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    orderId: p.text(),
    fromState: p.text(),
    toState: p.text(),
    version: p.integer(),
    payload: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    createdAt: p.datetime().defaultRaw('clock_timestamp()'),
  },
  indexes: [{ name: 'reservation_event_order_idx', properties: ['orderId', 'id'] }],
});

/** The stopped parcels of a partly shipped, refunded order whose stock went back to available: once per order (returns.ts). */
export const ReservationReturnEntity = defineEntity({
  name: 'ReservationReturn',
  tableName: 'reservation_return',
  properties: {
    order: () => p.oneToOne(ReservationOrderEntity).owner().primary().mapToPk().fieldName('order_id').deleteRule('no action').updateRule('no action'),
    items: p.json<{ skuId: string; warehouseId: string; qty: number }[]>(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
});

export const entities = [
  ...messagingEntities,
  WarehouseEntity,
  StockEntity,
  ReservationOrderEntity,
  ReservationEntity,
  ReservationEventEntity,
  ReservationReturnEntity,
] as const;
