import { defineEntity, messagingEntities, p } from '@shop/kit';

export const SHIPMENT_STATUSES = ['PENDING', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELED'] as const;

/** Shipments (one per warehouse of an order), their items, their audit trail, and orders that must get none. */
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
  // One shipment per warehouse of an order: a redelivered stock-confirmed creates nothing new.
  uniques: [{ properties: ['orderId', 'warehouseId'] }],
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

export const entities = [...messagingEntities, ShipmentEntity, ShipmentItemEntity, ShipmentEventEntity, CanceledOrderEntity] as const;
