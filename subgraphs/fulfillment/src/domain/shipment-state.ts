import {
  DomainError,
  ErrorCode,
  advisoryXactLock,
  applyTransition,
  badInput,
  defineMachine,
  json,
  type EntityManager,
  type Selectable,
  type StoredMachine,
  dbClock,
  idsOfOrders,
} from '@shop/kit';
import { db, type Db } from '../persistence.js';
import { SHIPMENT_STATUSES } from './entities.js';
import { SHIPMENT_KEYS } from './partitions.js';

export { SHIPMENT_STATUSES };
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];
export type ShipmentRow = Selectable<Db['shipment']>;

/** The shipment state machine as data: from -> allowed to. */
export const shipmentMachine = defineMachine<ShipmentStatus>({
  name: 'shipment',
  states: SHIPMENT_STATUSES,
  transitions: {
    PENDING: ['PACKED', 'CANCELED'],
    PACKED: ['SHIPPED', 'CANCELED'],
    SHIPPED: ['DELIVERED'],
    DELIVERED: [],
    CANCELED: [],
  },
  refuse: (message, { from, allowed }) => new DomainError(ErrorCode.ORDER_STATE_INVALID, message, { status: from, allowed }),
});

export const SHIPMENT_TRANSITIONS = shipmentMachine.transitions;
export const canTransition = (from: ShipmentStatus, to: ShipmentStatus): boolean => shipmentMachine.can(from, to);

const shippedOrLater = (s: ShipmentStatus): boolean => s === 'SHIPPED' || s === 'DELIVERED';

export interface ShipmentMoveFacts {
  actor: string;
  correlationId: string;
  /** The other shipments of the order, locked: the order-level events are decided over all of them. */
  siblings: readonly ShipmentRow[];
  /** More facts for the audit row (tracking number, reason). */
  details?: Record<string, unknown>;
}

/** Writes one audit row of a shipment: the one writer of shipment_event. */
export async function audit(
  tx: EntityManager,
  shipment: Pick<ShipmentRow, 'id' | 'order_id'>,
  type: string,
  actor: string | null,
  payload: Record<string, unknown>,
): Promise<void> {
  await db(tx)
    .insertInto('shipment_event')
    .values(auditValues(shipment, type, actor, payload))
    .execute();
}

/** A shipment_event row (audit writes it; a move writes it in its own statement). */
const auditValues = (shipment: Pick<ShipmentRow, 'id' | 'order_id'>, type: string, actor: string | null, payload: Record<string, unknown>) => ({
  shipment_id: shipment.id,
  order_id: shipment.order_id,
  type,
  actor,
  payload: json(payload),
});

/**
 * The move that makes the last shipment of an order SHIPPED emits fulfillment.order-shipped, the
 * move that makes the last one DELIVERED emits fulfillment.order-delivered; each happens exactly once.
 */
export const storedShipment: StoredMachine<Db, 'shipment', ShipmentStatus, ShipmentMoveFacts> = {
  machine: shipmentMachine,
  table: 'shipment',
  key: 'id',
  status: 'status',
  version: 'version',
  touch: () => ({ updated_at: dbClock() }),
  // Written with the move and its event in one statement (kit apply.ts).
  auditRow: ({ from, to, after }, facts) => ({
    table: 'shipment_event',
    values: auditValues(after, `STATUS_${to}`, facts.actor, { from, to, version: after.version, ...facts.details }),
  }),
  event: ({ to, after }, { siblings, correlationId }) => {
    const all = siblings.map((s) => (s.id === after.id ? after : s));
    const payload = { orderId: after.order_id };
    if (to === 'SHIPPED' && all.every((s) => shippedOrLater(s.status))) {
      return { type: 'fulfillment.order-shipped', aggregateId: after.order_id, correlationId, payload };
    }
    if (to === 'DELIVERED' && all.every((s) => s.status === 'DELIVERED')) {
      return { type: 'fulfillment.order-delivered', aggregateId: after.order_id, correlationId, payload };
    }
    return undefined;
  },
};

/**
 * The ids of the shipments of these orders, from the unpartitioned shipment_key: a query by order
 * then reads the shipments by id, i.e. only the partitions they are in. For orders old enough that
 * their key rows may have been pruned (SHIPMENT_KEYS), from the partitions by order id
 * (shipment_order_idx), only those from the order's creation on.
 */
export async function shipmentIdsOfOrders(em: EntityManager, orderIds: readonly string[]): Promise<string[]> {
  return idsOfOrders(orderIds, SHIPMENT_KEYS, {
    fromKeys: (ids) => db(em).selectFrom('shipment_key').select(['shipment_id as id', 'order_id']).where('order_id', 'in', ids).execute(),
    fromRows: (ids, idFrom) =>
      db(em)
        .selectFrom('shipment')
        .select(['id', 'order_id'])
        .where('order_id', 'in', ids)
        .$if(idFrom !== undefined, (q) => q.where('id', '>=', idFrom!))
        .execute(),
  });
}

/** Locks every shipment of an order, in id order, so concurrent moves of sibling shipments queue instead of deadlocking. */
export async function lockSiblings(tx: EntityManager, orderId: string): Promise<ShipmentRow[]> {
  const ids = await shipmentIdsOfOrders(tx, [orderId]);
  if (ids.length === 0) return [];
  return db(tx).selectFrom('shipment').selectAll().where('id', 'in', ids).orderBy('id').forUpdate().execute();
}

export interface TransitionRequest {
  shipmentId: string;
  to: ShipmentStatus;
  trackingNumber?: string;
  actor: string;
  correlationId: string;
}

/** Moves one shipment along the table, in one transaction, with every shipment of its order locked. */
export async function transitionShipment(em: EntityManager, request: TransitionRequest): Promise<ShipmentRow> {
  return em.fork().transactional(async (tx) => {
    const target = await db(tx).selectFrom('shipment').select('order_id').where('id', '=', request.shipmentId).executeTakeFirst();
    if (!target) throw badInput(`unknown shipment ${request.shipmentId}`, { field: 'shipmentId' });
    const siblings = await lockSiblings(tx, target.order_id);
    const { row } = await applyTransition(tx, storedShipment, {
      id: request.shipmentId,
      to: request.to,
      locked: siblings.find((s) => s.id === request.shipmentId)!,
      set: request.trackingNumber ? { tracking_number: request.trackingNumber } : {},
      facts: { actor: request.actor, correlationId: request.correlationId, siblings, details: { trackingNumber: request.trackingNumber ?? null } },
    });
    return row;
  });
}

/** Serialises everything that creates or cancels the shipments of one order. */
export const lockOrderShipments = (tx: EntityManager, orderId: string): Promise<void> => advisoryXactLock(tx, `shipments:${orderId}`);
