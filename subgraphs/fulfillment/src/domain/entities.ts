import { defineEntity, messagingEntities, p } from '@shop/kit';
import { SHIPMENT_KEY_SYNC } from './partitions.js';

export const SHIPMENT_STATUSES = ['PENDING', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELED'] as const;

/** Shipments (one per warehouse of an order; partitioned by id with their items, domain/partitions.ts) and their keys, their items, their audit trail, and orders that must get none. */
export const ShipmentEntity = defineEntity({
  name: 'Shipment',
  tableName: 'shipment',
  properties: {
    id: p.text().primary(),
    orderId: p.text(),
    userId: p.text().nullable(),
    warehouseId: p.text(),
    status: p.enum(SHIPMENT_STATUSES),
    trackingNumber: p.text().nullable(),
    version: p.integer().default(1),
    createdAt: p.datetime().defaultRaw('clock_timestamp()'),
    updatedAt: p.datetime().defaultRaw('clock_timestamp()'),
  },
  // Keeps the key table in step (partitions.ts).
  triggers: [{ name: 'shipment_key_sync', timing: 'after', events: ['insert', 'update', 'delete'], expression: SHIPMENT_KEY_SYNC }],
  // The shipments of an order whose key rows were pruned (partitions.ts, SHIPMENT_KEYS).
  indexes: [{ name: 'shipment_order_idx', properties: ['orderId'] }],
});

/**
 * One row per shipment, unpartitioned, kept in step by the trigger shipment_key_sync: the unique
 * constraint of shipments that must hold across partitions, and the shipments of an order.
 */
export const ShipmentKeyEntity = defineEntity({
  name: 'ShipmentKey',
  tableName: 'shipment_key',
  properties: {
    shipmentId: p.text().primary(),
    orderId: p.text(),
    warehouseId: p.text(),
  },
  // One shipment per warehouse of an order: a redelivered stock-confirmed creates nothing new.
  uniques: [{ name: 'shipment_one_per_warehouse', properties: ['orderId', 'warehouseId'] }],
});

export const ShipmentItemEntity = defineEntity({
  name: 'ShipmentItem',
  tableName: 'shipment_item',
  properties: {
    shipmentId: () => p.manyToOne(ShipmentEntity).primary().mapToPk().fieldName('shipment_id'),
    skuId: p.text().primary(),
    qty: p.integer(),
    unitPrice: p.integer(),
    currency: p.string().columnType('char(3)'),
  },
  checks: [
    { property: 'qty', expression: 'qty > 0' },
    { property: 'unitPrice', expression: 'unit_price >= 0' },
  ],
});

export const ShipmentEventEntity = defineEntity({
  name: 'ShipmentEvent',
  tableName: 'shipment_event',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    shipmentId: p.text(),
    orderId: p.text(),
    type: p.text(),
    actor: p.text().nullable(),
    payload: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    createdAt: p.datetime().defaultRaw('clock_timestamp()'),
  },
  indexes: [{ name: 'shipment_event_shipment_idx', properties: ['shipmentId', 'id'] }],
});

export const CanceledOrderEntity = defineEntity({
  name: 'CanceledOrder',
  tableName: 'canceled_order',
  properties: {
    orderId: p.text().primary(),
    reason: p.text(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
});

export const entities = [...messagingEntities, ShipmentEntity, ShipmentKeyEntity, ShipmentItemEntity, ShipmentEventEntity, CanceledOrderEntity] as const;
