import { sql, type EntityManager } from '@shop/kit';
import type { ShipmentRow, ShipmentStatus } from './shipment-state.js';

/** The warehouse work queue: shipments in a status (and warehouse), oldest first, paged by id. */
export async function listShipments(
  em: EntityManager,
  filter: { status?: ShipmentStatus | undefined; warehouseId?: string | undefined },
  limit: number,
  after: string | undefined,
): Promise<ShipmentRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.status) {
    where.push('status = ?');
    params.push(filter.status);
  }
  if (filter.warehouseId) {
    where.push('warehouse_id = ?');
    params.push(filter.warehouseId);
  }
  if (after) {
    where.push('id > ?');
    params.push(after);
  }
  params.push(limit);
  return sql(em).all<ShipmentRow>(`SELECT * FROM shipment ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`, params);
}
