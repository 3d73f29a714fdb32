import { json, newId, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';

export interface OrderEvent {
  orderId: string;
  type: string;
  payload: Record<string, unknown>;
  /** A status move: from, to and the version it made. Without them the row records a fact beside the order's current status. */
  from?: string | null;
  to?: string;
  version?: number;
}

/** The order_event row of a status move (recordOrderEvent writes it; placement writes the first within its one INSERT). */
export const orderEventRow = (event: OrderEvent & { to: string; version: number }) => ({
  id: newId('evt'),
  order_id: event.orderId,
  event_type: event.type,
  from_status: event.from ?? null,
  to_status: event.to,
  version: event.version,
  payload: json(event.payload),
});

/** The one writer of order_event, the audit trail of an order: its moves and the facts recorded beside them. */
export async function recordOrderEvent(tx: EntityManager, event: OrderEvent): Promise<void> {
  if (event.to !== undefined && event.version !== undefined) {
    await db(tx)
      .insertInto('order_event')
      .values(orderEventRow({ ...event, to: event.to, version: event.version }))
      .execute();
    return;
  }
  const payload = json(event.payload);
  await db(tx)
    .insertInto('order_event')
    .columns(['id', 'order_id', 'event_type', 'from_status', 'to_status', 'version', 'payload'])
    .expression((eb) =>
      eb
        .selectFrom('orders')
        .select((s) => [
          s.val(newId('evt')).as('id'),
          'id as order_id',
          s.val(event.type).as('event_type'),
          'status as from_status',
          'status as to_status',
          'version',
          payload.as('payload'),
        ])
        .where('id', '=', event.orderId),
    )
    .execute();
}
