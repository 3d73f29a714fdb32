import { DomainError, ErrorCode, badInput, emit, type EntityManager, sql } from '@shop/kit';

export const SHIPMENT_STATUSES = ['PENDING', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELED'] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

/** The shipment state machine: from -> allowed to. Nothing else assigns a shipment status. */
export const SHIPMENT_TRANSITIONS: Readonly<Record<ShipmentStatus, readonly ShipmentStatus[]>> = {
  PENDING: ['PACKED', 'CANCELED'],
  PACKED: ['SHIPPED', 'CANCELED'],
  SHIPPED: ['DELIVERED'],
  DELIVERED: [],
  CANCELED: [],
};

export const canTransition = (from: ShipmentStatus, to: ShipmentStatus): boolean => SHIPMENT_TRANSITIONS[from].includes(to);

export interface ShipmentRow {
  id: string;
  order_id: string;
  user_id: string | null;
  warehouse_id: string;
  status: ShipmentStatus;
  tracking_number: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface TransitionRequest {
  shipmentId: string;
  to: ShipmentStatus;
  trackingNumber?: string;
  actor: string;
  correlationId: string;
}

const shippedOrLater = (s: ShipmentStatus): boolean => s === 'SHIPPED' || s === 'DELIVERED';

/**
 * Moves one shipment along the table, in one transaction: locks every shipment of its order (in id
 * order, so concurrent moves of sibling shipments queue instead of deadlocking), checks the move,
 * bumps the version, writes the audit row, and decides the order-level events under that lock:
 * the move that makes the last shipment SHIPPED emits fulfillment.order-shipped, the move that
 * makes the last one DELIVERED emits fulfillment.order-delivered; each happens exactly once.
 */
export async function transitionShipment(em: EntityManager, request: TransitionRequest): Promise<ShipmentRow> {
  return em.fork().transactional(async (tx) => {
    const [target] = await sql(tx).all<{ order_id: string }>('SELECT order_id FROM shipment WHERE id = ?', [request.shipmentId]);
    if (!target) throw badInput(`unknown shipment ${request.shipmentId}`, { field: 'shipmentId' });
    const siblings = await sql(tx).all<ShipmentRow>('SELECT * FROM shipment WHERE order_id = ? ORDER BY id FOR UPDATE', [target.order_id]);
    const shipment = siblings.find((s) => s.id === request.shipmentId)!;
    if (!canTransition(shipment.status, request.to)) {
      throw new DomainError(ErrorCode.ORDER_STATE_INVALID, `shipment ${shipment.id} is ${shipment.status}: it cannot become ${request.to}`, {
        status: shipment.status,
        allowed: SHIPMENT_TRANSITIONS[shipment.status],
      });
    }
    const [updated] = await sql(tx).all<ShipmentRow>(
      `UPDATE shipment SET status = ?, tracking_number = COALESCE(?, tracking_number), version = version + 1, updated_at = clock_timestamp()
       WHERE id = ? AND version = ? RETURNING *`,
      [request.to, request.trackingNumber ?? null, shipment.id, shipment.version],
    );
    if (!updated) throw new Error(`shipment ${shipment.id} changed concurrently`);
    await audit(tx, updated, `STATUS_${request.to}`, request.actor, {
      from: shipment.status,
      to: request.to,
      version: updated.version,
      trackingNumber: request.trackingNumber ?? null,
    });

    const after = siblings.map((s) => (s.id === updated.id ? updated : s));
    if (request.to === 'SHIPPED' && after.every((s) => shippedOrLater(s.status))) {
      await emit(tx, {
        type: 'fulfillment.order-shipped',
        aggregateId: updated.order_id,
        correlationId: request.correlationId,
        payload: { orderId: updated.order_id },
      });
    }
    if (request.to === 'DELIVERED' && after.every((s) => s.status === 'DELIVERED')) {
      await emit(tx, {
        type: 'fulfillment.order-delivered',
        aggregateId: updated.order_id,
        correlationId: request.correlationId,
        payload: { orderId: updated.order_id },
      });
    }
    return updated;
  });
}

export async function audit(
  tx: EntityManager,
  shipment: Pick<ShipmentRow, 'id' | 'order_id'>,
  type: string,
  actor: string | null,
  payload: Record<string, unknown>,
): Promise<void> {
  await sql(tx).run('INSERT INTO shipment_event (shipment_id, order_id, type, actor, payload) VALUES (?, ?, ?, ?, ?)', [
    shipment.id,
    shipment.order_id,
    type,
    actor,
    JSON.stringify(payload),
  ]);
}

/** Serialises everything that creates or cancels the shipments of one order. */
export const lockOrderShipments = (tx: EntityManager, orderId: string): Promise<number> =>
  sql(tx).run('SELECT pg_advisory_xact_lock(hashtext(?))', [`shipments:${orderId}`]);
