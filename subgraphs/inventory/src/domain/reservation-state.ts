import { DomainError, ErrorCode, defineMachine, json, logger, type EntityManager, type Selectable, type StoredMachine, dbNow } from '@shop/kit';
import { db, type Db } from '../persistence.js';
import { RESERVATION_STATES } from './entities.js';

export type OrderReservationState = (typeof RESERVATION_STATES)[number];
export type ReservationHeader = Selectable<Db['reservation_order']>;

/**
 * The reservation of an order (its header row) as data. A reserve call creates it HOLD or
 * REJECTED; HOLD is confirmed (stock sold) when the order is paid, or released (stock back to
 * available) when it is canceled; a confirmed reservation is released only to restock a refund.
 */
export const reservationMachine = defineMachine<OrderReservationState, { restock: boolean }>({
  name: 'reservation',
  states: RESERVATION_STATES,
  transitions: {
    HOLD: ['CONFIRMED', 'RELEASED'],
    CONFIRMED: ['RELEASED'],
    RELEASED: [],
    REJECTED: [],
  },
  guards: [({ from, to }, { restock }) => (from === 'CONFIRMED' && to === 'RELEASED' && !restock ? 'sold stock goes back only to restock a refund' : null)],
  refuse: (message, { from, to }) => new DomainError(ErrorCode.ORDER_STATE_INVALID, message, { from, to }),
});

/** The reservation rows of an order in one state, in (sku, warehouse) byte order: the order every transaction locks stock rows in. */
export const rowsIn = (tx: EntityManager, orderId: string, state: 'HOLD' | 'CONFIRMED') =>
  db(tx)
    .selectFrom('reservation')
    // Units a refund already returned (returns.ts) are no longer sold: a restock moves only the rest.
    .select((eb) => ['sku_id as skuId', 'warehouse_id as warehouseId', 'bucket', eb('qty', '-', eb.ref('returned')).as('qty')])
    .where('order_id', '=', orderId)
    .where('state', '=', state)
    .orderBy('sku_id', (ob) => ob.collate('C'))
    .orderBy('warehouse_id', (ob) => ob.collate('C'))
    .orderBy('bucket')
    .execute();

export type HeldRow = Awaited<ReturnType<typeof rowsIn>>[number];

/** Moves `qty` between two stock columns of the row (bucket) the reservation took it from; the guard keeps the source from going negative. */
async function moveStock(tx: EntityManager, row: HeldRow, from: 'reserved' | 'sold', to: 'available' | 'sold'): Promise<void> {
  const updated = await db(tx)
    .updateTable('stock')
    .set((eb) => ({ [from]: eb(from, '-', row.qty), [to]: eb(to, '+', row.qty), updated_at: dbNow() }))
    .where('sku_id', '=', row.skuId)
    .where('warehouse_id', '=', row.warehouseId)
    .where('bucket', '=', row.bucket)
    .where(from, '>=', row.qty)
    .executeTakeFirst();
  if (updated.numUpdatedRows !== 1n)
    throw new Error(`stock of ${row.skuId} in ${row.warehouseId} (bucket ${row.bucket}) holds less ${from} than reservation says (${row.qty})`);
}

/**
 * Every move of a header carries its rows and their stock: HOLD → CONFIRMED turns reserved into
 * sold, → RELEASED gives reserved (or, restocking, sold) back to available. Audited in reservation_event.
 */
export const storedReservation: StoredMachine<Db, 'reservation_order', OrderReservationState, { restock: boolean }> = {
  machine: reservationMachine,
  table: 'reservation_order',
  key: 'order_id',
  status: 'state',
  version: 'version',
  touch: () => ({ updated_at: dbNow() }),
  async effects(tx, { id, from, to }) {
    if (from === 'RELEASED' || from === 'REJECTED' || to === 'HOLD' || to === 'REJECTED') return;
    const rows = await rowsIn(tx, id, from);
    for (const row of rows.filter((r) => r.qty > 0)) await moveStock(tx, row, from === 'HOLD' ? 'reserved' : 'sold', to === 'CONFIRMED' ? 'sold' : 'available');
    await db(tx).updateTable('reservation').set({ state: to, updated_at: dbNow() }).where('order_id', '=', id).where('state', '=', from).execute();
  },
  async audit(tx, { id, from, to, after }, { restock }) {
    await db(tx)
      .insertInto('reservation_event')
      .values({ order_id: id, from_state: from, to_state: to, version: after.version, payload: json({ restock }) })
      .execute();
    logger.info({ orderId: id, from, to }, 'reservation state changed');
  },
};
