import { applyTransition, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';
import { canTransition, lockOrderShipments, lockSiblings, storedShipment, type ShipmentStatus } from './shipment-state.js';

export interface RefundRule {
  /** STOP: the parcel is canceled and never leaves; KEEP: it stays as it is. */
  parcel: 'STOP' | 'KEEP';
  /** Whether its quantities go back to available when the refund succeeds. */
  stock: 'RETURNS' | 'STAYS_SOLD';
  /** Whether a refund of an order with such a parcel needs an admin's approval first. */
  approval: boolean;
}

/**
 * The refund policy, one row per shipment status (README "Refunds"). A refund, full or of a
 * partly shipped order, stops every parcel still waiting in a warehouse and returns its stock;
 * parcels that left stay sold and make the refund wait for an admin. An order without shipments
 * yet gets none afterwards (canceled_order). Whatever the parcels did meanwhile, the order ends
 * REFUNDED when the money is back.
 */
export const REFUND_POLICY: Readonly<Record<ShipmentStatus, RefundRule>> = {
  PENDING: { parcel: 'STOP', stock: 'RETURNS', approval: false },
  PACKED: { parcel: 'STOP', stock: 'RETURNS', approval: false },
  SHIPPED: { parcel: 'KEEP', stock: 'STAYS_SOLD', approval: true },
  DELIVERED: { parcel: 'KEEP', stock: 'STAYS_SOLD', approval: true },
  // Stopped by an earlier refund request of the order (one that failed at the provider, say).
  CANCELED: { parcel: 'KEEP', stock: 'RETURNS', approval: false },
};

export interface ReturnedLine {
  skuId: string;
  warehouseId: string;
  qty: number;
}

export interface RefundStop {
  /** Some parcel left a warehouse: the refund needs approval and only `returned` goes back to stock. */
  shipped: boolean;
  /** Parcels this call canceled. */
  canceled: number;
  /** The quantities of every stopped parcel of the order (those whose stock returns). */
  returned: ReturnedLine[];
}

/**
 * Applies the policy to one order, atomically and idempotently: cancel its waiting parcels, mark
 * the order so shipments confirmed later are never created, and answer what shipped and what
 * returns. Asked again, it answers the same.
 */
export async function stopForRefund(em: EntityManager, orderId: string, actor: string, correlationId: string): Promise<RefundStop> {
  return em.fork().transactional(async (tx) => {
    await lockOrderShipments(tx, orderId);
    const parcels = await lockSiblings(tx, orderId);
    let canceled = 0;
    for (const [i, parcel] of parcels.entries()) {
      if (REFUND_POLICY[parcel.status].parcel !== 'STOP' || !canTransition(parcel.status, 'CANCELED')) continue;
      const { row } = await applyTransition(tx, storedShipment, {
        id: parcel.id,
        to: 'CANCELED',
        locked: parcel,
        facts: { actor, correlationId, siblings: parcels, details: { reason: 'refund', correlationId } },
      });
      parcels[i] = row;
      canceled += 1;
    }
    await db(tx)
      .insertInto('canceled_order')
      .values({ order_id: orderId, reason: 'refund' })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const returning = parcels.filter((p) => REFUND_POLICY[p.status].stock === 'RETURNS').map((p) => p.id);
    const returned: ReturnedLine[] =
      returning.length === 0
        ? []
        : await db(tx)
            .selectFrom('shipment_item as i')
            .innerJoin('shipment as s', 's.id', 'i.shipment_id')
            .select(['i.sku_id as skuId', 's.warehouse_id as warehouseId', 'i.qty'])
            .where('i.shipment_id', 'in', returning)
            .orderBy('i.sku_id')
            .orderBy('s.warehouse_id')
            .execute();
    return { shipped: parcels.some((p) => REFUND_POLICY[p.status].approval), canceled, returned };
  });
}
