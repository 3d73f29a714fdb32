import type { EntityManager } from '@shop/kit';
import { db } from '../persistence.js';
import type { ShipmentRow, ShipmentStatus } from './shipment-state.js';

/** The warehouse work queue: shipments in a status (and warehouse), oldest first, paged by id. */
export function listShipments(
  em: EntityManager,
  filter: { status?: ShipmentStatus | undefined; warehouseId?: string | undefined },
  limit: number,
  after: string | undefined,
): Promise<ShipmentRow[]> {
  return db(em)
    .selectFrom('shipment')
    .selectAll()
    .$if(filter.status !== undefined, (q) => q.where('status', '=', filter.status!))
    .$if(!!filter.warehouseId, (q) => q.where('warehouse_id', '=', filter.warehouseId!))
    .$if(!!after, (q) => q.where('id', '>', after!))
    .orderBy('id')
    .limit(limit)
    .execute();
}
