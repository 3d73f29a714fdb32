import { logger, newId, rawSql, type EntityManager } from '@shop/kit';
import { planLine, type WarehouseAvailability } from './allocation.js';

/**
 * Stock reservations of orders. Each command is one transaction and idempotent: the order's header
 * row (reservation_order, primary key order_id) is the idempotency key and records the outcome.
 * Concurrency is the database's: stock is taken with conditional UPDATEs whose affected row count
 * is checked, the header is locked (FOR UPDATE) before a state change, and stock rows are always
 * locked in (sku_id, warehouse_id) order (byte order, COLLATE "C").
 *
 * Pass a fresh fork of the EntityManager, not one inside an open transaction: a deadlock retry
 * reruns the whole transaction.
 */
export type OrderReservationState = 'HOLD' | 'CONFIRMED' | 'RELEASED' | 'REJECTED';

export interface ReserveLine {
  skuId: string;
  qty: number;
}
export interface ReserveInput {
  orderId: string;
  lines: ReserveLine[];
  expireAt: Date;
}
export interface Allocation {
  skuId: string;
  warehouseId: string;
  qty: number;
}
export interface Shortage {
  skuId: string;
  requested: number;
  available: number;
}

/**
 * `state` is the outcome of the (first) reserve call; `orderState` is the header's state now (a
 * replay after confirm says HOLD + CONFIRMED). `replayed` is true when an earlier call decided.
 * An order released before it was ever reserved replays as REJECTED with no shortages and
 * orderState RELEASED: a late reservation never holds stock for a canceled order.
 */
export type ReserveOutcome =
  | { state: 'HOLD'; allocations: Allocation[]; replayed: boolean; orderState: OrderReservationState }
  | { state: 'REJECTED'; shortages: Shortage[]; replayed: boolean; orderState: OrderReservationState };

/** `changed` is true only for the call that moved stock; repeats answer ok with changed false. */
export interface CommandResult {
  ok: boolean;
  state: OrderReservationState | 'UNKNOWN';
  changed: boolean;
}

/** Each failed attempt means a concurrent reservation won a warehouse; past this the line counts as short. */
const MAX_ATTEMPTS_PER_LINE = 50;
const MAX_TRANSACTION_RETRIES = 5;

class Rejected extends Error {
  constructor(readonly shortages: Shortage[]) {
    super('reservation rejected');
  }
}

type Sql = ReturnType<typeof rawSql>;

/** Reruns a transaction the database aborted as a deadlock or serialization failure. */
async function withRetry<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if ((code !== '40P01' && code !== '40001') || attempt >= MAX_TRANSACTION_RETRIES) throw error;
      logger.warn({ what, attempt, code }, 'transaction aborted by the database, retrying');
    }
  }
}

/** One line per SKU (quantities summed), in SKU order: the order every transaction locks rows in. */
export function mergeLines(lines: readonly ReserveLine[]): ReserveLine[] {
  const byId = new Map<string, number>();
  for (const line of lines) byId.set(line.skuId, (byId.get(line.skuId) ?? 0) + line.qty);
  return [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([skuId, qty]) => ({ skuId, qty }));
}

const availabilityOf = (db: Sql, skuId: string) =>
  db.all<WarehouseAvailability>(
    `SELECT warehouse_id AS "warehouseId", available FROM stock WHERE sku_id = ? AND available > 0 ORDER BY warehouse_id COLLATE "C"`,
    [skuId],
  );

/**
 * Takes one line's quantity: plan against fresh numbers, take each part with a conditional UPDATE,
 * and plan the remainder again when a concurrent reservation won a warehouse.
 */
async function takeLine(db: Sql, line: ReserveLine): Promise<{ allocations: Allocation[] } | { shortage: Shortage }> {
  const taken = new Map<string, number>();
  let remaining = line.qty;
  let lastTotal = 0;
  for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_LINE && remaining > 0; attempt++) {
    const stock = await availabilityOf(db, line.skuId);
    lastTotal = stock.reduce((sum, s) => sum + s.available, 0);
    const plan = planLine(stock, remaining);
    if (!plan) break;
    for (const take of plan) {
      const updated = await db.run(
        `UPDATE stock SET available = available - ?, reserved = reserved + ?, updated_at = now()
          WHERE sku_id = ? AND warehouse_id = ? AND available >= ?`,
        [take.qty, take.qty, line.skuId, take.warehouseId, take.qty],
      );
      if (updated === 1) {
        remaining -= take.qty;
        taken.set(take.warehouseId, (taken.get(take.warehouseId) ?? 0) + take.qty);
      }
    }
  }
  if (remaining > 0 && lastTotal >= remaining) logger.warn({ skuId: line.skuId, qty: line.qty }, 'reservation line gave up after repeated lost races');
  if (remaining > 0) return { shortage: { skuId: line.skuId, requested: line.qty, available: lastTotal + (line.qty - remaining) } };
  return { allocations: [...taken.entries()].map(([warehouseId, qty]) => ({ skuId: line.skuId, warehouseId, qty })) };
}

/** Holds stock for every line of an order, or nothing (all-or-nothing). Idempotent per orderId. */
export async function reserve(em: EntityManager, input: ReserveInput): Promise<ReserveOutcome> {
  const lines = mergeLines(input.lines);
  let shortages: Shortage[];
  try {
    const allocations = await withRetry('reserve', () =>
      em.transactional(async (tx) => {
        const db = rawSql(tx);
        const fresh = await db.run(`INSERT INTO reservation_order (order_id, state, expire_at) VALUES (?, 'HOLD', ?) ON CONFLICT (order_id) DO NOTHING`, [
          input.orderId,
          input.expireAt,
        ]);
        if (fresh === 0) return null;
        const held: Allocation[] = [];
        const missing: Shortage[] = [];
        for (const line of lines) {
          if (missing.length > 0) {
            // Already rejected: only measure the other lines for the answer, take nothing more.
            const total = (await availabilityOf(db, line.skuId)).reduce((sum, s) => sum + s.available, 0);
            if (total < line.qty) missing.push({ skuId: line.skuId, requested: line.qty, available: total });
            continue;
          }
          const result = await takeLine(db, line);
          if ('shortage' in result) missing.push(result.shortage);
          else held.push(...result.allocations);
        }
        if (missing.length > 0) throw new Rejected(missing); // rolls back every take above
        for (const a of held) {
          await db.run(`INSERT INTO reservation (id, order_id, sku_id, warehouse_id, qty, state) VALUES (?, ?, ?, ?, ?, 'HOLD')`, [
            newId('rsv'),
            input.orderId,
            a.skuId,
            a.warehouseId,
            a.qty,
          ]);
        }
        return held;
      }),
    );
    if (allocations === null) return recordedOutcome(em, input.orderId);
    return { state: 'HOLD', allocations, replayed: false, orderState: 'HOLD' };
  } catch (error) {
    if (!(error instanceof Rejected)) throw error;
    shortages = error.shortages;
  }
  // The stock changes are rolled back; record the rejection so a repeat answers the same.
  const recorded = await em.transactional((tx) =>
    rawSql(tx).run(
      `INSERT INTO reservation_order (order_id, state, expire_at, shortages) VALUES (?, 'REJECTED', ?, ?::jsonb) ON CONFLICT (order_id) DO NOTHING`,
      [input.orderId, input.expireAt, JSON.stringify(shortages)],
    ),
  );
  if (recorded === 0) return recordedOutcome(em, input.orderId); // a concurrent call for this order decided first
  return { state: 'REJECTED', shortages, replayed: false, orderState: 'REJECTED' };
}

async function recordedOutcome(em: EntityManager, orderId: string): Promise<ReserveOutcome> {
  const db = rawSql(em);
  const [header] = await db.all<{ state: OrderReservationState; shortages: Shortage[] | null }>(
    'SELECT state, shortages FROM reservation_order WHERE order_id = ?',
    [orderId],
  );
  if (!header) throw new Error(`reservation header of ${orderId} vanished`);
  if (header.state === 'REJECTED') return { state: 'REJECTED', shortages: header.shortages ?? [], replayed: true, orderState: 'REJECTED' };
  const allocations = await db.all<Allocation>(
    `SELECT sku_id AS "skuId", warehouse_id AS "warehouseId", qty FROM reservation WHERE order_id = ? ORDER BY sku_id COLLATE "C", warehouse_id COLLATE "C"`,
    [orderId],
  );
  if (allocations.length === 0) return { state: 'REJECTED', shortages: [], replayed: true, orderState: header.state };
  return { state: 'HOLD', allocations, replayed: true, orderState: header.state };
}

interface HeldRow {
  skuId: string;
  warehouseId: string;
  qty: number;
}

const lockHeader = async (db: Sql, orderId: string): Promise<OrderReservationState | undefined> =>
  (await db.all<{ state: OrderReservationState }>('SELECT state FROM reservation_order WHERE order_id = ? FOR UPDATE', [orderId]))[0]?.state;

const rowsIn = (db: Sql, orderId: string, state: 'HOLD' | 'CONFIRMED') =>
  db.all<HeldRow>(
    `SELECT sku_id AS "skuId", warehouse_id AS "warehouseId", qty FROM reservation
      WHERE order_id = ? AND state = ? ORDER BY sku_id COLLATE "C", warehouse_id COLLATE "C"`,
    [orderId, state],
  );

/** Moves `qty` between two stock columns of one row; the guard keeps the source from going negative. */
async function moveStock(db: Sql, row: HeldRow, from: 'reserved' | 'sold', to: 'available' | 'sold'): Promise<void> {
  const updated = await db.run(
    `UPDATE stock SET ${from} = ${from} - ?, ${to} = ${to} + ?, updated_at = now() WHERE sku_id = ? AND warehouse_id = ? AND ${from} >= ?`,
    [row.qty, row.qty, row.skuId, row.warehouseId, row.qty],
  );
  if (updated !== 1) throw new Error(`stock of ${row.skuId} in ${row.warehouseId} holds less ${from} than reservation says (${row.qty})`);
}

async function finish(db: Sql, orderId: string, rows: HeldRow[], fromState: 'HOLD' | 'CONFIRMED', toState: 'CONFIRMED' | 'RELEASED'): Promise<void> {
  await db.run(`UPDATE reservation SET state = ?, updated_at = now() WHERE order_id = ? AND state = ?`, [toState, orderId, fromState]);
  await db.run(`UPDATE reservation_order SET state = ?, updated_at = now() WHERE order_id = ?`, [toState, orderId]);
  logger.info({ orderId, from: fromState, to: toState, rows: rows.length }, 'reservation state changed');
}

/** HOLD -> CONFIRMED: the held quantities become sold. Repeat: ok, no change. RELEASED, REJECTED, unknown: refused. */
export function confirm(em: EntityManager, orderId: string): Promise<CommandResult> {
  return withRetry('confirm', () =>
    em.transactional(async (tx): Promise<CommandResult> => {
      const db = rawSql(tx);
      const state = await lockHeader(db, orderId);
      if (!state) return { ok: false, state: 'UNKNOWN', changed: false };
      if (state !== 'HOLD') return { ok: state === 'CONFIRMED', state, changed: false };
      const rows = await rowsIn(db, orderId, 'HOLD');
      for (const row of rows) await moveStock(db, row, 'reserved', 'sold');
      await finish(db, orderId, rows, 'HOLD', 'CONFIRMED');
      return { ok: true, state: 'CONFIRMED', changed: true };
    }),
  );
}

/**
 * Gives an order's stock back. HOLD -> RELEASED: reserved -> available (cancel, payment timeout).
 * CONFIRMED -> RELEASED only with `restock: true`: sold -> available (refund of an order that did
 * not ship); without it a confirmed order is refused. Repeat, REJECTED: ok, no change. An unknown
 * order gets a RELEASED header (a tombstone), so a reserve arriving later holds nothing.
 */
export function release(em: EntityManager, orderId: string, options: { restock?: boolean } = {}): Promise<CommandResult> {
  return withRetry('release', () =>
    em.transactional(async (tx): Promise<CommandResult> => {
      const db = rawSql(tx);
      const tombstone = await db.run(
        `INSERT INTO reservation_order (order_id, state, expire_at) VALUES (?, 'RELEASED', now()) ON CONFLICT (order_id) DO NOTHING`,
        [orderId],
      );
      if (tombstone === 1) return { ok: true, state: 'RELEASED', changed: false };
      const state = await lockHeader(db, orderId);
      if (!state) throw new Error(`reservation header of ${orderId} vanished`);
      if (state === 'RELEASED' || state === 'REJECTED') return { ok: true, state, changed: false };
      if (state === 'CONFIRMED' && !options.restock) return { ok: false, state, changed: false };
      const rows = await rowsIn(db, orderId, state);
      for (const row of rows) await moveStock(db, row, state === 'HOLD' ? 'reserved' : 'sold', 'available');
      await finish(db, orderId, rows, state, 'RELEASED');
      return { ok: true, state: 'RELEASED', changed: true };
    }),
  );
}

/** Orders whose hold has expired, oldest first: for a sweeper that releases what the order service did not. */
export async function expiredHolds(em: EntityManager, now: Date, limit = 100): Promise<string[]> {
  const rows = await rawSql(em).all<{ orderId: string }>(
    `SELECT order_id AS "orderId" FROM reservation_order WHERE state = 'HOLD' AND expire_at < ? ORDER BY expire_at LIMIT ?`,
    [now, limit],
  );
  return rows.map((r) => r.orderId);
}
