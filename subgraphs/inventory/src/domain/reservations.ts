import {
  applyTransition,
  json,
  jsonArrayFrom,
  lockRow,
  logger,
  newId,
  prepared,
  sql,
  type EntityManager,
  type ExpressionBuilder,
  type Kysely,
  type QueryCreator,
  dbNow,
} from '@shop/kit';
import { db, type Db } from '../persistence.js';
import { planLine, type WarehouseAvailability } from './allocation.js';
import { takeFromBuckets } from './buckets.js';
import { reservationMachine, storedReservation, type OrderReservationState } from './reservation-state.js';

export type { OrderReservationState };

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

/** A SKU's available units per warehouse (summed over its buckets) and how many bucket rows hold them there. */
const availabilityOf = (tx: EntityManager, skuId: string): Promise<(WarehouseAvailability & { buckets: number })[]> =>
  db(tx)
    .selectFrom('stock')
    .select((eb) => ['warehouse_id as warehouseId', eb.fn.sum<number>('available').as('available'), eb.fn.countAll<number>().as('buckets')])
    .where('sku_id', '=', skuId)
    .groupBy('warehouse_id')
    .having((eb) => eb.fn.sum('available'), '>', 0)
    .orderBy('warehouse_id', (ob) => ob.collate('C'))
    .execute()
    .then((rows) => rows.map((r) => ({ warehouseId: r.warehouseId, available: Number(r.available), buckets: Number(r.buckets) })));

/** A hold as recorded: the bucket it took from is where confirm, release and return move its units. */
interface Hold extends Allocation {
  bucket: number;
}

/**
 * Takes `qty` in one warehouse with a conditional UPDATE: of the SKU's one row, or, for a bucketed
 * (flash-sale) SKU, of one bucket (buckets.ts). Answers the bucket taken from, or null (lost race, short).
 */
async function takeInWarehouse(tx: EntityManager, skuId: string, warehouseId: string, qty: number, buckets: number): Promise<number | null> {
  if (buckets > 1) return takeFromBuckets(tx, skuId, warehouseId, qty, buckets);
  const updated = await db(tx)
    .updateTable('stock')
    .set((eb) => ({ available: eb('available', '-', qty), reserved: eb('reserved', '+', qty), updated_at: dbNow() }))
    .where('sku_id', '=', skuId)
    .where('warehouse_id', '=', warehouseId)
    .where('bucket', '=', 0)
    .where('available', '>=', qty)
    .executeTakeFirst();
  return updated.numUpdatedRows === 1n ? 0 : null;
}

/**
 * Takes one line's quantity: plan against fresh numbers, take each part with a conditional UPDATE,
 * and plan the remainder again when a concurrent reservation won a warehouse.
 */
async function takeLine(tx: EntityManager, line: ReserveLine): Promise<{ allocations: Hold[] } | { shortage: Shortage }> {
  const taken = new Map<string, Hold>();
  let remaining = line.qty;
  let lastTotal = 0;
  for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_LINE && remaining > 0; attempt++) {
    const stock = await availabilityOf(tx, line.skuId);
    lastTotal = stock.reduce((sum, s) => sum + s.available, 0);
    const plan = planLine(stock, remaining);
    if (!plan) break;
    for (const take of plan) {
      const buckets = stock.find((s) => s.warehouseId === take.warehouseId)?.buckets ?? 1;
      const bucket = await takeInWarehouse(tx, line.skuId, take.warehouseId, take.qty, buckets);
      if (bucket !== null) {
        remaining -= take.qty;
        const key = `${take.warehouseId}/${bucket}`;
        const hold = taken.get(key) ?? { skuId: line.skuId, warehouseId: take.warehouseId, bucket, qty: 0 };
        taken.set(key, { ...hold, qty: hold.qty + take.qty });
      }
    }
  }
  if (remaining > 0 && lastTotal >= remaining) logger.warn({ skuId: line.skuId, qty: line.qty }, 'reservation line gave up after repeated lost races');
  if (remaining > 0) return { shortage: { skuId: line.skuId, requested: line.qty, available: lastTotal + (line.qty - remaining) } };
  return { allocations: [...taken.values()] };
}

/** Holds summed per (sku, warehouse), in that byte order: what callers and events see (a bucket is inventory's own). */
function perWarehouse(holds: readonly Hold[]): Allocation[] {
  const sums = new Map<string, Allocation>();
  for (const h of holds) {
    const key = `${h.skuId}/${h.warehouseId}`;
    sums.set(key, { skuId: h.skuId, warehouseId: h.warehouseId, qty: (sums.get(key)?.qty ?? 0) + h.qty });
  }
  const byte = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...sums.values()].sort((a, b) => byte(a.skuId, b.skuId) || byte(a.warehouseId, b.warehouseId));
}

/** Thrown inside the transaction when the one-statement reservation could not take every line: rolls it back. */
class Incomplete extends Error {
  constructor() {
    super('not every line fits one warehouse');
  }
}

/** Claims an order's reservation header (HOLD): inserts nothing when the order already has one (a repeat), nor, with `onlyWith`, when that WITH of the statement is empty. */
const claimHeader = (q: QueryCreator<Db>, input: { orderId: string; expireAt: Date }, onlyWith?: 'taken') =>
  q
    .insertInto('reservation_order')
    .columns(['order_id', 'state', 'expire_at'])
    .expression(
      q
        .selectNoFrom((e) => [e.val(input.orderId).as('order_id'), e.val('HOLD').as('state'), e.val(input.expireAt).as('expire_at')])
        // With `onlyWith`: only when that WITH of the statement has a row (sql: a WITH is not a table of Db).
        .$if(onlyWith !== undefined, (sel) => sel.where(sql<boolean>`exists (select from ${sql.table(onlyWith!)})`)),
    )
    .onConflict((oc) => oc.column('order_id').doNothing());

/** What a one-statement reservation's WITHs answer from: the header it claimed, the holds it wrote. */
type OneStatement = { header: { order_id: string }; held: Allocation };

/** The answer of a one-statement reservation: whether it claimed the header (fresh) and the holds it wrote. */
const outcomeOf = (eb: ExpressionBuilder<OneStatement, never>) =>
  [
    eb
      .selectFrom('header')
      .select((e) => e.fn.countAll<string>().as('n'))
      .as('fresh'),
    jsonArrayFrom(eb.selectFrom('held').select(['held.skuId', 'held.warehouseId', 'held.qty'])).as('held'),
  ] as const;

/** Null for a repeat (the header existed), the holds when every one of `lines` was taken; Incomplete (rolled back by the caller) otherwise. */
function decided(row: { fresh: string | null; held: Allocation[] }, lines: number): Allocation[] | null {
  if (Number(row.fresh) === 0) return null;
  if (row.held.length !== lines) throw new Incomplete();
  return row.held;
}

/**
 * A normal order's reservation in one statement, for the common case where one warehouse can serve
 * each line whole (the one with the most available, as planLine prefers): it locks the wanted SKUs'
 * stock rows in (sku, warehouse) byte order, claims the order's header only when every line found
 * its warehouse, takes each line there with the conditional `available >= qty` (only once the
 * header is claimed: a repeat takes nothing), and records the holds. Only rows that can serve their
 * line whole are locked. The statement is its own transaction (no BEGIN and COMMIT round trips): it
 * writes all of the order or nothing, and a hot row stays locked only while it runs. Should a claimed
 * header ever get fewer holds than lines, its last column divides by zero and the statement undoes
 * itself.
 * Answers null when the header already existed (a repeat: nothing was taken), the allocations when
 * every line was taken, and throws Incomplete when a line needs several warehouses or more than
 * there is (nothing was written): the caller plans line by line (takeLine).
 * A bucketed (flash-sale) SKU is left out (it has rows with bucket > 0): its line is Incomplete and
 * goes line by line, where one bucket is taken (buckets.ts), so no statement locks all its buckets.
 * Its SQL is built once (kit prepared.ts): the lines are arrays bound as three parameters.
 */
const reserveWholeStatement = prepared((q: Kysely<Db>, p: { orderId: string; expireAt: Date; ids: string[]; skuIds: string[]; qtys: number[] }) =>
  q
    .with('want', (q) =>
      q.selectNoFrom((eb) => [
        eb.fn<string>('unnest', [sql`${p.ids}::text[]`]).as('id'),
        eb.fn<string>('unnest', [sql`${p.skuIds}::text[]`]).as('sku_id'),
        eb.fn<number>('unnest', [sql`${p.qtys}::int[]`]).as('qty'),
      ]),
    )
    .with('locked', (q) =>
      q
        .selectFrom('stock')
        .innerJoin('want', 'want.sku_id', 'stock.sku_id')
        .select(['want.id', 'stock.sku_id', 'stock.warehouse_id', 'stock.available', 'want.qty'])
        // Only rows that could serve their line whole are locked: a sold-out SKU locks nothing here.
        .whereRef('stock.available', '>=', 'want.qty')
        .where('stock.bucket', '=', 0)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('stock as b').select('b.bucket').whereRef('b.sku_id', '=', 'stock.sku_id').where('b.bucket', '>', 0))))
        .orderBy('stock.sku_id', (ob) => ob.collate('C'))
        .orderBy('stock.warehouse_id', (ob) => ob.collate('C'))
        .forUpdate('stock'),
    )
    .with('pick', (q) =>
      q
        .selectFrom('locked')
        .distinctOn('locked.sku_id')
        .select(['locked.id', 'locked.sku_id', 'locked.warehouse_id', 'locked.qty'])
        .whereRef('locked.available', '>=', 'locked.qty')
        .orderBy('locked.sku_id')
        .orderBy('locked.available', 'desc')
        .orderBy('locked.warehouse_id', (ob) => ob.collate('C')),
    )
    .with('header', (q) =>
      q
        .insertInto('reservation_order')
        .columns(['order_id', 'state', 'expire_at'])
        .expression(
          q
            .selectNoFrom((e) => [e.val(p.orderId).as('order_id'), e.val('HOLD').as('state'), e.val(p.expireAt).as('expire_at')])
            .where(sql<boolean>`(select count(*) from "pick") = cardinality(${p.skuIds}::text[])`),
        )
        .onConflict((oc) => oc.column('order_id').doNothing())
        .returning('order_id'),
    )
    .with('taken', (q) =>
      q
        .updateTable('stock')
        .from(['pick', 'header'])
        .set((eb) => ({
          available: eb('stock.available', '-', eb.ref('pick.qty')),
          reserved: eb('stock.reserved', '+', eb.ref('pick.qty')),
          updated_at: dbNow(),
        }))
        .whereRef('stock.sku_id', '=', 'pick.sku_id')
        .whereRef('stock.warehouse_id', '=', 'pick.warehouse_id')
        .where('stock.bucket', '=', 0)
        .whereRef('stock.available', '>=', 'pick.qty')
        .returning(['pick.id', 'stock.sku_id', 'stock.warehouse_id', 'pick.qty']),
    )
    .with('held', (q) =>
      q
        .insertInto('reservation')
        .columns(['id', 'order_id', 'sku_id', 'warehouse_id', 'qty', 'state'])
        .expression((eb) =>
          eb
            .selectFrom('taken')
            .select((e) => ['taken.id', e.val(p.orderId).as('order_id'), 'taken.sku_id', 'taken.warehouse_id', 'taken.qty', e.val('HOLD').as('state')]),
        )
        .returning(['sku_id as skuId', 'warehouse_id as warehouseId', 'qty']),
    )
    .selectNoFrom((eb) => [
      ...outcomeOf(eb as unknown as ExpressionBuilder<OneStatement, never>),
      sql<string>`(select count(*) from "pick")`.as('picked'),
      sql<number>`1 / (case when exists (select from "header") and (select count(*) from "held") <> cardinality(${p.skuIds}::text[]) then 0 else 1 end)`.as(
        'whole',
      ),
    ]),
);

/** PostgreSQL's division_by_zero: reserveWholeStatement's guard undid a claimed header with fewer holds than lines. */
const UNDONE = '22012';

/** Outside a transaction the statement is one; inside a caller's, pass a savepoint's (reserve does). */
async function reserveWhole(em: EntityManager, input: ReserveInput, lines: readonly ReserveLine[]): Promise<Allocation[] | null> {
  const skuIds = lines.map((l) => l.skuId);
  const { rows } = await reserveWholeStatement(db(em), {
    orderId: input.orderId,
    expireAt: input.expireAt,
    ids: lines.map(() => newId('rsv')),
    skuIds,
    qtys: lines.map((l) => l.qty),
  }).catch((error: unknown) => {
    if ((error as { code?: string }).code !== UNDONE) throw error;
    logger.warn({ orderId: input.orderId }, 'one-statement reservation undid a partial take; planning line by line');
    throw new Incomplete();
  });
  const row = rows[0]!;
  // Not claimed: a repeat when every line found its warehouse (the header existed), else not whole.
  if (Number(row.fresh) === 0 && Number(row.picked) !== lines.length) throw new Incomplete();
  const held = decided(row, lines.length);
  return held && [...held].sort((a, b) => (a.skuId < b.skuId ? -1 : a.skuId > b.skuId ? 1 : 0));
}

/**
 * A flash-sale order's reservation in one statement (its one line, of a bucketed SKU): unless the
 * order's header exists (a repeat), it takes `qty` from one of the SKU's buckets picked at random
 * with the conditional `available >= qty` (as takeFromBuckets does), and only with that take claims
 * the header and records the hold. So it writes all of it or nothing, and needs no savepoint inside
 * the caller's transaction (an event handler's, shared by a group commit). Answers null for a
 * repeat, the allocation when it took, and throws Incomplete when the bucket could not serve it
 * (nothing was written): the caller goes line by line, where an empty bucket rebalances the others
 * (buckets.ts) and a short SKU is rejected. Should a twin of the same order claim the header between
 * this statement's snapshot and its claim, the take is undone by the last column's division by zero.
 */
const reserveFromOneBucketStatement = prepared((q: Kysely<Db>, p: { orderId: string; expireAt: Date; id: string; skuId: string; qty: number }) =>
  q
    .with('existing', (q) => q.selectFrom('reservation_order').select('order_id').where('order_id', '=', p.orderId))
    .with('pick', (q) =>
      q
        .selectFrom('stock')
        .select(['sku_id', 'warehouse_id', 'bucket'])
        .where('sku_id', '=', p.skuId)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('existing').select('order_id'))))
        .orderBy(sql`random()`)
        .limit(1),
    )
    .with('taken', (q) =>
      q
        .updateTable('stock')
        .from('pick')
        .set((eb) => ({ available: eb('stock.available', '-', p.qty), reserved: eb('stock.reserved', '+', p.qty), updated_at: dbNow() }))
        .whereRef('stock.sku_id', '=', 'pick.sku_id')
        .whereRef('stock.warehouse_id', '=', 'pick.warehouse_id')
        .whereRef('stock.bucket', '=', 'pick.bucket')
        .where('stock.available', '>=', p.qty)
        .returning(['stock.sku_id', 'stock.warehouse_id', 'stock.bucket']),
    )
    // The WITHs above are not tables of Db: the claim is written against Db's own.
    .with('header', (q) => claimHeader(q as unknown as QueryCreator<Db>, p, 'taken').returning('order_id'))
    .with('held', (q) =>
      q
        .insertInto('reservation')
        .columns(['id', 'order_id', 'sku_id', 'warehouse_id', 'bucket', 'qty', 'state'])
        .expression((eb) =>
          eb
            .selectFrom(['taken', 'header'])
            .select((e) => [
              e.val(p.id).as('id'),
              e.val(p.orderId).as('order_id'),
              'taken.sku_id',
              'taken.warehouse_id',
              'taken.bucket',
              e.cast<number>(e.val(p.qty), 'integer').as('qty'),
              e.val('HOLD').as('state'),
            ]),
        )
        .returning(['sku_id as skuId', 'warehouse_id as warehouseId', 'qty']),
    )
    .selectNoFrom((eb) => [
      ...outcomeOf(eb as unknown as ExpressionBuilder<OneStatement, never>),
      sql<string>`(select count(*) from "existing")`.as('existed'),
      sql<number>`1 / (case when exists (select from "taken") and not exists (select from "header") then 0 else 1 end)`.as('whole'),
    ]),
);

async function reserveFromOneBucket(em: EntityManager, input: ReserveInput, line: ReserveLine): Promise<Allocation[] | null> {
  const { rows } = await reserveFromOneBucketStatement(db(em), {
    orderId: input.orderId,
    expireAt: input.expireAt,
    id: newId('rsv'),
    skuId: line.skuId,
    qty: line.qty,
  });
  const row = rows[0]!;
  if (Number(row.existed) > 0) return null;
  if (row.held.length !== 1) throw new Incomplete(); // nothing taken, nothing written
  return row.held;
}

/**
 * Holds stock for every line of an order, or nothing (all-or-nothing). Idempotent per orderId.
 * `bucketed`: the order's SKU is a flash-sale one (order.created's `flashSale`), whose buckets
 * reserveWhole leaves out: its one line is taken from one bucket in one statement
 * (reserveFromOneBucket), and several lines go line by line at once (correct for any SKU, only
 * slower for a normal order).
 */
export async function reserve(em: EntityManager, input: ReserveInput, options: { bucketed?: boolean } = {}): Promise<ReserveOutcome> {
  const lines = mergeLines(input.lines);
  let shortages: Shortage[];
  // First in one statement (reserveWhole); when a line does not fit one warehouse, line by line.
  // The one statement that fits the order, if any: a flash order of several lines has none.
  // reserveWhole is a transaction of its own, or a savepoint inside a caller's (an event handler's), so a
  // deadlock retry or its guard's error leaves the caller's transaction usable; reserveFromOneBucket writes
  // nothing when it is Incomplete, so it runs as it is (an error of its own fails the caller's transaction,
  // which a consumer runs again).
  const oneStatement = !options.bucketed
    ? em.getTransactionContext()
      ? () => em.transactional((tx) => reserveWhole(tx, input, lines))
      : () => reserveWhole(em, input, lines)
    : lines.length === 1
      ? () => reserveFromOneBucket(em, input, lines[0]!)
      : undefined;
  const whole = oneStatement
    ? await withRetry('reserve', oneStatement).catch((error: unknown) => {
        if (error instanceof Incomplete) return 'incomplete' as const;
        throw error;
      })
    : ('incomplete' as const);
  if (whole === null) return recordedOutcome(em, input.orderId);
  if (whole !== 'incomplete') return { state: 'HOLD', allocations: whole, replayed: false, orderState: 'HOLD' };
  try {
    const allocations = await withRetry('reserve', () =>
      em.transactional(async (tx) => {
        const fresh = await claimHeader(db(tx), input).executeTakeFirst();
        if (fresh.numInsertedOrUpdatedRows === 0n) return null;
        const held: Hold[] = [];
        const missing: Shortage[] = [];
        for (const line of lines) {
          if (missing.length > 0) {
            // Already rejected: only measure the other lines for the answer, take nothing more.
            const total = (await availabilityOf(tx, line.skuId)).reduce((sum, s) => sum + s.available, 0);
            if (total < line.qty) missing.push({ skuId: line.skuId, requested: line.qty, available: total });
            continue;
          }
          const result = await takeLine(tx, line);
          if ('shortage' in result) missing.push(result.shortage);
          else held.push(...result.allocations);
        }
        if (missing.length > 0) throw new Rejected(missing); // rolls back every take above
        if (held.length > 0)
          await db(tx)
            .insertInto('reservation')
            .values(
              held.map((a) => ({
                id: newId('rsv'),
                order_id: input.orderId,
                sku_id: a.skuId,
                warehouse_id: a.warehouseId,
                bucket: a.bucket,
                qty: a.qty,
                state: 'HOLD' as const,
              })),
            )
            .execute();
        return held;
      }),
    );
    if (allocations === null) return recordedOutcome(em, input.orderId);
    return { state: 'HOLD', allocations: perWarehouse(allocations), replayed: false, orderState: 'HOLD' };
  } catch (error) {
    if (!(error instanceof Rejected)) throw error;
    shortages = error.shortages;
  }
  // The stock changes are rolled back; record the rejection so a repeat answers the same.
  const recorded = await em.transactional((tx) =>
    db(tx)
      .insertInto('reservation_order')
      .values({ order_id: input.orderId, state: 'REJECTED', expire_at: input.expireAt, shortages: json(shortages) })
      .onConflict((oc) => oc.column('order_id').doNothing())
      .executeTakeFirst(),
  );
  if (recorded.numInsertedOrUpdatedRows === 0n) return recordedOutcome(em, input.orderId); // a concurrent call for this order decided first
  return { state: 'REJECTED', shortages, replayed: false, orderState: 'REJECTED' };
}

async function recordedOutcome(em: EntityManager, orderId: string): Promise<ReserveOutcome> {
  const header = await db(em).selectFrom('reservation_order').select(['state', 'shortages']).where('order_id', '=', orderId).executeTakeFirst();
  if (!header) throw new Error(`reservation header of ${orderId} vanished`);
  if (header.state === 'REJECTED') return { state: 'REJECTED', shortages: header.shortages ?? [], replayed: true, orderState: 'REJECTED' };
  const allocations = await allocationsOf(em, orderId);
  if (allocations.length === 0) return { state: 'REJECTED', shortages: [], replayed: true, orderState: header.state };
  return { state: 'HOLD', allocations, replayed: true, orderState: header.state };
}

/** The allocations of an order's reservation (its buckets summed per warehouse), in (sku, warehouse) byte order. */
export const allocationsOf = (em: EntityManager, orderId: string): Promise<Allocation[]> =>
  db(em)
    .selectFrom('reservation')
    .select((eb) => ['sku_id as skuId', 'warehouse_id as warehouseId', eb.fn.sum<number>('qty').as('qty')])
    .where('order_id', '=', orderId)
    .groupBy(['sku_id', 'warehouse_id'])
    .orderBy('sku_id', (ob) => ob.collate('C'))
    .orderBy('warehouse_id', (ob) => ob.collate('C'))
    .execute()
    .then((rows) => rows.map((r) => ({ ...r, qty: Number(r.qty) })));

/** HOLD -> CONFIRMED: the held quantities become sold. Repeat: ok, no change. RELEASED, REJECTED, unknown: refused. */
export function confirm(em: EntityManager, orderId: string): Promise<CommandResult> {
  return withRetry('confirm', () =>
    em.transactional(async (tx): Promise<CommandResult> => {
      const header = await lockRow(tx, storedReservation, orderId);
      if (!header) return { ok: false, state: 'UNKNOWN', changed: false };
      if (header.state !== 'HOLD') return { ok: header.state === 'CONFIRMED', state: header.state, changed: false };
      await applyTransition(tx, storedReservation, { id: orderId, to: 'CONFIRMED', locked: header, facts: { restock: false } });
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
      const tombstone = await db(tx)
        .insertInto('reservation_order')
        .values({ order_id: orderId, state: 'RELEASED', expire_at: dbNow() })
        .onConflict((oc) => oc.column('order_id').doNothing())
        .executeTakeFirst();
      if (tombstone.numInsertedOrUpdatedRows === 1n) return { ok: true, state: 'RELEASED', changed: false };
      const header = await lockRow(tx, storedReservation, orderId);
      if (!header) throw new Error(`reservation header of ${orderId} vanished`);
      const restock = options.restock ?? false;
      if (header.state === 'RELEASED' || header.state === 'REJECTED') return { ok: true, state: header.state, changed: false };
      if (!reservationMachine.can(header.state, 'RELEASED') || (header.state === 'CONFIRMED' && !restock))
        return { ok: false, state: header.state, changed: false };
      await applyTransition(tx, storedReservation, { id: orderId, to: 'RELEASED', locked: header, facts: { restock } });
      return { ok: true, state: 'RELEASED', changed: true };
    }),
  );
}

/** Orders whose hold has expired, oldest first: for a sweeper that releases what the order service did not. */
export async function expiredHolds(em: EntityManager, now: Date, limit = 100): Promise<string[]> {
  const rows = await db(em)
    .selectFrom('reservation_order')
    .select('order_id as orderId')
    .where('state', '=', 'HOLD')
    .where('expire_at', '<', now.toISOString())
    .orderBy('expire_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.orderId);
}
