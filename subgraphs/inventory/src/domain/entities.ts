import { defineEntity, p, type InferEntity } from '@shop/kit';

/**
 * The inventory tables as MikroORM entities. Every stock change goes through conditional SQL
 * statements (stock.ts, reservations.ts); these definitions document the shape and serve reads.
 */
export const WarehouseEntity = defineEntity({
  name: 'Warehouse',
  tableName: 'warehouse',
  properties: {
    id: p.string().primary(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export const StockEntity = defineEntity({
  name: 'Stock',
  tableName: 'stock',
  properties: {
    skuId: p.string().primary(),
    warehouseId: p.string().primary(),
    available: p.integer(),
    reserved: p.integer(),
    sold: p.integer(),
    updatedAt: p.datetime(),
  },
});

export const ReservationOrderEntity = defineEntity({
  name: 'ReservationOrder',
  tableName: 'reservation_order',
  properties: {
    orderId: p.string().primary(),
    state: p.string(),
    expireAt: p.datetime(),
    shortages: p.json().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

export const ReservationEntity = defineEntity({
  name: 'Reservation',
  tableName: 'reservation',
  properties: {
    id: p.string().primary(),
    orderId: p.string(),
    skuId: p.string(),
    warehouseId: p.string(),
    qty: p.integer(),
    state: p.string(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

export type WarehouseRow = InferEntity<typeof WarehouseEntity>;
export type StockRow = InferEntity<typeof StockEntity>;
export const entities = [WarehouseEntity, StockEntity, ReservationOrderEntity, ReservationEntity];
