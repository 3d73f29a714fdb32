import { defineEntity, p } from '@shop/kit';

/**
 * The ORM's view of the shipment table. Reads and writes go through raw SQL in the domain
 * functions (row locks, conditional updates); the entity is what the ORM needs to start.
 */
export const ShipmentEntity = defineEntity({
  name: 'Shipment',
  tableName: 'shipment',
  properties: {
    id: p.string().primary(),
    orderId: p.string(),
    userId: p.string().nullable(),
    warehouseId: p.string(),
    status: p.string(),
    trackingNumber: p.string().nullable(),
    version: p.integer(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

export const entities = [ShipmentEntity];
