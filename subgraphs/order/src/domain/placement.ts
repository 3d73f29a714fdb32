import { AsyncResource } from 'node:async_hooks';
import {
  DomainError,
  ErrorCode,
  badInput,
  callInternal,
  outboxRow,
  envInt,
  batchCommit,
  inPowersOfTwo,
  logger,
  newId,
  advisoryXactLock,
  jsonArrayFrom,
  releaseEvent,
  sql,
  withdrawal,
  type EntityManager,
  type Expression,
  type ExpressionBuilder,
  type SqlBool,
  type BatchCommit,
  type QueryCreator,
  type Identity,
} from '@shop/kit';
import { db, type Db } from '../persistence.js';
import { orderEventRow } from './order-events.js';
import { moveOrders, type OrderMove, type OrderRow } from './order-state.js';
import { findOrder } from './orders.js';
import { couponUses, noteReservation, paymentTtlSeconds, quote, shippingRates, type Quote } from './quote.js';
import type { ShippingRate } from './pricing.js';
import { claimPlacement } from './flash-sale.js';
import {
  assessObserved,
  currentRules,
  observationColumns,
  observationsOf,
  passingConditions,
  recordRiskDecision,
  riskRejected,
  type Observed,
  type RiskClient,
  type RiskResult,
  type RiskRule,
} from './risk/index.js';
import { copiedAsPreviewed, copiedRows, factsOfRows } from './prices.js';
import { stockHeldMove } from './risk-review.js';
import { requireUnexpired, verifyPreview, type PreviewClaims } from './preview-token.js';

/** Thrown inside the placement transaction when risk control refuses: rolls the claim back. */
class RiskRefusal extends Error {
  constructor(readonly risk: RiskResult) {
    super('risk rejected');
  }
}

export interface PlaceOrderInput {
  clientReqId: string;
  previewId: string;
}
export interface PlaceOrderResult {
  order: OrderRow;
  replayed: boolean;
}

type ReserveAnswer =
  | { state: 'HOLD'; allocations: { skuId: string; warehouseId: string; qty: number }[] }
  | { state: 'REJECTED'; shortages: { skuId: string; requested: number; available: number }[] };

const CLIENT_REQ_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

const stockNotEnough = (shortages: unknown = []) => new DomainError(ErrorCode.STOCK_NOT_ENOUGH, 'Not enough stock for this order', { shortages });

/**
 * Places an order exactly once per (user, clientReqId). The primary key of order_request decides
 * which of several concurrent requests creates the order; the others answer with that order and
 * `replayed: true`. The order, its items, the request record, the coupon use, the audit row and the
 * order.created outbox event commit together: in one statement when the preview still holds
 * (placedAsPreviewed), else in a transaction that reads what changed and refuses or reviews with
 * it. Normal orders then reserve stock synchronously at
 * the inventory subgraph (a documented synchronous call); flash-sale orders, and any order whose
 * synchronous reservation did not answer, are reserved asynchronously from order.created.
 */
export async function placeOrder(
  em: EntityManager,
  identity: Identity,
  input: PlaceOrderInput,
  correlationId: string,
  client: RiskClient = { clientIp: null, deviceId: null },
): Promise<PlaceOrderResult> {
  if (!CLIENT_REQ_ID.test(input.clientReqId)) throw badInput('clientReqId must be 1..64 characters of letters, digits and _ . : -', { field: 'clientReqId' });
  const userId = identity.userId;
  const preview = verifyPreview(input.previewId, userId);
  const previewId = preview.id;

  // A retry of a placed order answers that order, however old its preview or whatever changed since:
  // the request record is read only when this preview cannot be placed as it stands (or, below, when
  // the claim finds the key taken), so a first placement does not pay for the lookup.
  try {
    requireUnexpired(preview);
  } catch (error) {
    const earlier = await findRequest(em, userId, input.clientReqId);
    if (earlier) return replay(em, earlier, previewId);
    throw error;
  }

  const orderId = newId('ord');
  // A flash-sale order is written only for a buyer admitted at the preview, once per buyer (flash-sale.ts).
  // A retry of a placed flash order finds the admission bound to that order (or ended by its cancel):
  // the request record is read only then, so a first placement costs no read.
  let unclaim: (() => Promise<void>) | undefined;
  if (preview.flashSale) {
    try {
      unclaim = await claimPlacement(userId, preview.lines, orderId);
    } catch (error) {
      const earlier = await findRequest(em, userId, input.clientReqId);
      if (earlier) return replay(em, earlier, previewId);
      throw error;
    }
  }
  const expireAt = new Date(Date.now() + paymentTtlSeconds() * 1000);
  const rules = await currentRules(em); // before the transaction: no second connection while it holds one
  const rates = await shippingRates(em); // likewise
  const countsUserOrders = rules.some((r) => r.enabled && r.kind === 'ORDERS_PER_USER');
  const observed = { userId, deviceId: client.deviceId, ip: client.clientIp };
  const writing = { orderId, userId, clientReqId: input.clientReqId, preview, client, expireAt, correlationId };
  let placed: Placed | undefined;
  try {
    // A flash order's transaction is a handful of statements on its own rows: concurrent clicks' placements
    // share one (batch commit), so a sale pays one BEGIN and COMMIT for many orders, and the one-statement
    // placements of a group go to the database together (flashPlacementsOf, writeOrders).
    const transaction = (work: (tx: EntityManager) => Promise<Placed>): Promise<Placed> =>
      preview.flashSale ? flashPlacementsOf(em).run({ work: AsyncResource.bind(work) }) : em.transactional(work);
    const together = preview.flashSale ? (write: OrderWrite) => flashPlacementsOf(em).run({ write }) : undefined;
    placed = await placedAsPreviewed(em, writing, { rules, rates, countsUserOrders, observed, transaction, together });
    // Something changed since the preview, or a coupon: read it, and refuse, review or place with it.
    placed ??= await transaction(async (tx) => {
      // Risk control (seed §13): rules are data; REJECT refuses, REVIEW places the order to wait for an
      // admin. With a per-user rule enabled, the user's orders are counted under a per-user lock held
      // until this order commits, so concurrent attempts of one user are counted one after the other.
      if (countsUserOrders) await advisoryXactLock(tx, `risk:user:${userId}`);
      // One statement reads today's prices (the price copy) and what the risk rules need (the subject's
      // recent orders, its blocklist entries): a round trip instead of two (risk/facts.ts, prices.ts).
      const read = await db(tx)
        .selectNoFrom((eb) => [
          jsonArrayFrom(
            copiedRows(
              eb,
              preview.lines.map((l) => l.skuId),
            ),
          ).as('prices'),
          ...observationColumns(eb, observed, rules),
        ])
        .executeTakeFirstOrThrow();
      // Re-price with today's prices, coupon rules and shipping rates (seed §17 example 7): anything
      // changed since the preview refuses the order. The request key is claimed by the statement that
      // writes the order (below): a key another request holds fails it, and the order of that request
      // is the answer (keyTaken, below).
      const now = await quote(tx, userId, preview.lines, preview.couponCode, preview.country, correlationId, {
        rates,
        copied: factsOfRows(read.prices),
      }).catch((error: unknown) => {
        if (error instanceof DomainError)
          throw new DomainError(ErrorCode.PREVIEW_EXPIRED, `The order changed since the preview (${error.message}): preview again`);
        throw error;
      });
      if (changedSince(preview, now)) throw new DomainError(ErrorCode.PREVIEW_EXPIRED, 'Prices or promotions changed since the preview: preview again');
      const risk = assessObserved(
        rules,
        observationsOf(read as Record<string, unknown>, { ...observed, payable: now.breakdown.payable, currency: now.currency }, rules),
      );
      if (risk.action === 'REJECT') throw new RiskRefusal(risk);
      const written = await writeOrder(tx, writing, now, risk.action === 'REVIEW');
      if (risk.action === 'REVIEW') await recordRiskDecision(tx, risk, orderId);
      if (now.couponCode) await useCoupon(tx, now.couponCode, userId, orderId);
      return written;
    });
  } catch (error) {
    // The key was taken (a retry, or a concurrent twin): answer with that request's order. A retry
    // refused before it reached the claim (prices or risk facts changed since) answers the same way.
    const refusedBeforeClaim = error instanceof RiskRefusal || (error instanceof DomainError && error.extensions.code === ErrorCode.PREVIEW_EXPIRED);
    if (keyTaken(error) || refusedBeforeClaim) {
      const earlier = await findRequest(em, userId, input.clientReqId);
      if (earlier) {
        await unclaim?.();
        return replay(em, earlier, previewId);
      }
      if (keyTaken(error)) throw new Error('order_request conflict without a committed winner');
    }
    await unclaim?.();
    if (!(error instanceof RiskRefusal)) throw error;
    await em.transactional((tx) => recordRiskDecision(tx, error.risk));
    throw riskRejected();
  }
  // A flash order answers as written (the statement returned its row): no read after the commit, which
  // would wait for a pooled connection again behind every other click's placement.
  const order = placed.quote.flashSale
    ? placed.order
    : (await reserveNow(em, placed.order, placed.quote.lines, expireAt, correlationId, placed.createdEventId)) || (await findOrder(em, orderId));
  if (!order) throw new Error(`order ${orderId} vanished after commit`);
  if (order.status === 'CANCELED' && order.cancel_reason === 'OUT_OF_STOCK') throw stockNotEnough();
  return { order, replayed: false };
}

/** What a placement wrote: the order's row, the quote it was written at, its order.created event. */
interface Placed {
  order: OrderRow;
  quote: Quote;
  createdEventId: string;
}

/** One placement's order, as writeOrder writes it. */
interface Writing {
  orderId: string;
  userId: string;
  clientReqId: string;
  preview: PreviewClaims;
  client: RiskClient;
  expireAt: Date;
  correlationId: string;
}

/** Whether pricing again gave anything other than the preview's figures. */
const changedSince = (preview: PreviewClaims, now: Quote): boolean =>
  now.flashSale !== preview.flashSale ||
  now.currency !== preview.currency ||
  now.breakdown.total !== preview.total ||
  now.breakdown.discount !== preview.discount ||
  now.breakdown.shippingFee !== preview.shippingFee ||
  now.breakdown.payable !== preview.payable ||
  now.lines.some((l, i) => l.unitPrice !== preview.lines[i]?.unitPrice);

/** PostgreSQL's division_by_zero: the one-statement placement's conditions did not hold, and it wrote nothing. */
const NOT_AS_PREVIEWED = '22012';

/**
 * The common placement in one statement: the order written on the condition that what the
 * transactional placement (in placeOrder) would read still says what the preview said. The copy
 * prices the lines as the preview did (copiedAsPreviewed, prices.ts), and no risk rule that reads the
 * database hits (passingConditions, risk/facts.ts), both checked in the writing statement's own
 * snapshot. When they do not hold, the statement undoes itself and the answer is undefined: the
 * transactional placement decides, with its precise refusal or review. The statement is a transaction
 * of its own, except:
 * - with a per-user order limit, it runs after the per-user lock, in the lock's transaction (a
 *   statement's snapshot is taken when it starts, so it counts every order committed before the lock);
 * - a flash order's joins its sale's shared transaction (flashPlacementsOf).
 * Undefined at once where it cannot apply: a coupon (its per-user uses are counted under a lock of
 * their own), a shipping rate changed since the preview, a rule that reads nothing and does not allow
 * the order (PAYABLE_ABOVE). Saves the read statement, and BEGIN and COMMIT where it is alone: 1 to 3
 * of a normal order's round trips.
 */
async function placedAsPreviewed(
  em: EntityManager,
  writing: Writing,
  context: {
    rules: readonly RiskRule[];
    rates: Map<string, ShippingRate>;
    countsUserOrders: boolean;
    observed: Observed;
    transaction: (work: (tx: EntityManager) => Promise<Placed>) => Promise<Placed>;
    /** Where the statement joins others' (a flash sale's placements), instead of being a transaction of its own. */
    together?: (write: OrderWrite) => Promise<Placed>;
  },
): Promise<Placed | undefined> {
  const { preview } = writing;
  if (preview.couponCode !== null) return undefined;
  // Priced again at the preview's own prices (nothing read): only the shipping rate can differ.
  const asPreviewed = new Map(
    preview.lines.map((l) => [
      l.skuId,
      {
        id: l.skuId,
        productId: '',
        title: '',
        flashSale: preview.flashSale,
        flashSaleStartsAt: null,
        price: { amount: l.unitPrice, currency: preview.currency },
        revision: 0,
      },
    ]),
  );
  const now = await quote(em, writing.userId, preview.lines, null, preview.country, writing.correlationId, { rates: context.rates, copied: asPreviewed });
  if (changedSince(preview, now)) return undefined;
  const unread = observationsOf(undefined, { ...context.observed, payable: now.breakdown.payable, currency: now.currency }, context.rules);
  if (assessObserved(context.rules, unread).action !== 'ALLOW') return undefined;
  const conditions = (eb: ExpressionBuilder<Db, never>) => [
    copiedAsPreviewed(eb, preview.lines, preview.currency, preview.flashSale),
    ...passingConditions(eb, context.observed, context.rules),
  ];
  const write = (tx: EntityManager) => writeOrder(tx, writing, now, false, conditions);
  const written = context.countsUserOrders
    ? context.transaction(async (tx) => {
        await advisoryXactLock(tx, `risk:user:${writing.userId}`);
        return write(tx);
      })
    : context.together
      ? context.together({ writing, now, riskReview: false, conditions })
      : write(em);
  return written.catch((error: unknown) => {
    if ((error as { code?: string }).code === NOT_AS_PREVIEWED) return undefined;
    throw error;
  });
}

/** One placement's write (writeOrder's arguments). */
interface OrderWrite {
  writing: Writing;
  now: Quote;
  riskReview: boolean;
  conditions?: (eb: ExpressionBuilder<Db, never>) => Expression<SqlBool>[];
}

/**
 * The request key, the order, its items, its first audit row and its order.created in one statement
 * that answers the order's row (the foreign keys are checked at the statement's end and the commit).
 * With `conditions`, it writes only when they hold: otherwise it fails with NOT_AS_PREVIEWED, undoing
 * itself.
 */
async function writeOrder(
  tx: EntityManager,
  writing: Writing,
  now: Quote,
  riskReview: boolean,
  conditions?: (eb: ExpressionBuilder<Db, never>) => Expression<SqlBool>[],
): Promise<Placed> {
  const [placed] = await writeOrders(tx, [{ writing, now, riskReview, conditions }]);
  return placed!;
}

/**
 * Several placements' writes (writeOrder's) in one statement, each under names of its own, answering
 * each order's row in the writes' order. A condition of any that does not hold, or a request key
 * taken, fails the statement and so every write of it: the group commit then runs each placement
 * again alone (kit group-commit.ts), where it fails by itself.
 */
async function writeOrders(tx: EntityManager, writes: readonly OrderWrite[]): Promise<Placed[]> {
  const created = writes.map(({ writing: w, now }) =>
    // A normal order's reservation is the synchronous call (reserveNow): order.created is its fallback,
    // held back until that call has had its time, withdrawn with the outcome and published at once
    // when the call fails; a crash in between publishes it when the time is up.
    outboxRow({
      type: 'order.created',
      ...(now.flashSale ? {} : { deferMs: reserveTimeoutMs() + FALLBACK_MARGIN_MS }),
      aggregateId: w.orderId,
      correlationId: w.correlationId,
      payload: {
        orderId: w.orderId,
        userId: w.userId,
        items: now.lines.map((l) => ({ skuId: l.skuId, qty: l.qty })),
        payable: { amount: now.breakdown.payable, currency: now.currency },
        expireAt: w.expireAt.toISOString(),
        flashSale: now.flashSale,
      },
    }),
  );
  const statement = writes.reduce((q, write, k) => withOrderWrites(q, write, created[k]!.row, `_${k}`), db(tx) as unknown as QueryCreator<any>);
  // Every row written above is undone when a condition does not hold (division by zero). The union's
  // operands name the statement's WITHs; they are built without WITHs of their own.
  const orderOf = (q: QueryCreator<any>, k: number) =>
    q
      .selectFrom([`o_${k}`, `ok_${k}`])
      .selectAll(`o_${k}`)
      .select(sql.lit(k).as(WRITE_INDEX))
      .where(sql<number>`1 / ${sql.ref(`ok_${k}.pass`)}::int`, '=', 1);
  const plain = db(tx) as unknown as QueryCreator<any>;
  const rows = await writes
    .slice(1)
    .reduce((query, _, k) => query.unionAll(orderOf(plain, k + 1)), orderOf(statement, 0))
    .execute();
  const orders: OrderRow[] = [];
  for (const { [WRITE_INDEX]: k, ...order } of rows as Record<string, unknown>[]) orders[k as number] = order as OrderRow;
  return writes.map((write, k) => {
    if (!orders[k]) throw new Error(`order ${write.writing.orderId} was not written`);
    return { order: orders[k], quote: write.now, createdEventId: created[k]!.envelope.eventId };
  });
}

/** The column that tells which write of a statement an order's row belongs to. */
const WRITE_INDEX = '__write';

/** The WITHs of one placement's write, named with `suffix`: its conditions, request key, order, items, audit row and order.created. */
function withOrderWrites(q: QueryCreator<any>, { writing: w, now, riskReview, conditions = () => [] }: OrderWrite, createdRow: object, suffix: string) {
  const b = now.breakdown;
  const { orderId, preview } = w;
  const typed = (creator: QueryCreator<any>) => creator as unknown as QueryCreator<Db>;
  return q
    .with(`ok${suffix}`, (c) => typed(c).selectNoFrom((eb) => eb.and(conditions(eb)).as('pass')))
    .with(`r${suffix}`, (c) =>
      typed(c).insertInto('order_request').values({ user_id: w.userId, client_req_id: w.clientReqId, order_id: orderId, preview_id: preview.id }),
    )
    .with(`o${suffix}`, (c) =>
      typed(c)
        .insertInto('orders')
        .values({
          id: orderId,
          user_id: w.userId,
          status: 'CREATED',
          currency: now.currency,
          total: b.total,
          discount: b.discount,
          shipping_fee: b.shippingFee,
          payable: b.payable,
          coupon_code: now.couponCode,
          address_id: preview.addressId,
          preview_id: preview.id,
          flash_sale: now.flashSale,
          expire_at: w.expireAt,
          device_id: w.client.deviceId,
          client_ip: w.client.clientIp,
          risk_review: riskReview,
        })
        .returningAll(),
    )
    .with(`i${suffix}`, (c) =>
      typed(c)
        .insertInto('order_item')
        .values(now.lines.map((line) => ({ order_id: orderId, sku_id: line.skuId, qty: line.qty, unit_price: line.unitPrice })))
        .returning('order_id'),
    )
    .with(`e${suffix}`, (c) =>
      typed(c)
        .insertInto('order_event')
        .values(
          orderEventRow({
            orderId,
            type: 'ORDER_CREATED',
            from: null,
            to: 'CREATED',
            version: 1,
            payload: { clientReqId: w.clientReqId, previewId: preview.id, ...b },
          }),
        )
        .returning('id'),
    )
    .with(`x${suffix}`, (c) =>
      typed(c)
        .insertInto('outbox')
        .values(createdRow as never)
        .returning('event_id'),
    );
}

/** Whether a placement failed on its request key: another request of the user with this clientReqId holds it. */
const keyTaken = (error: unknown): boolean =>
  (error as { code?: string }).code === '23505' && (error as { constraint?: string }).constraint === 'order_request_pkey';

function findRequest(em: EntityManager, userId: string, clientReqId: string) {
  return db(em)
    .selectFrom('order_request')
    .select(['order_id', 'preview_id'])
    .where('user_id', '=', userId)
    .where('client_req_id', '=', clientReqId)
    .executeTakeFirst();
}

async function replay(em: EntityManager, earlier: { order_id: string; preview_id: string }, previewId: string): Promise<PlaceOrderResult> {
  if (earlier.preview_id !== previewId) {
    throw new DomainError(ErrorCode.ORDER_ALREADY_EXISTS, 'This clientReqId was already used for another order: use a new clientReqId for a new order', {
      orderId: earlier.order_id,
    });
  }
  const order = await findOrder(em, earlier.order_id);
  if (!order) throw new Error(`order ${earlier.order_id} of a request record is missing`);
  if (order.status === 'CANCELED' && order.cancel_reason === 'OUT_OF_STOCK') throw stockNotEnough();
  return { order, replayed: true };
}

/** Counts the user's uses under a per-(coupon, user) lock, so concurrent orders cannot exceed the limit. */
async function useCoupon(tx: EntityManager, code: string, userId: string, orderId: string): Promise<void> {
  await advisoryXactLock(tx, `coupon:${code}:${userId}`);
  const limit = await db(tx).selectFrom('coupon').select('per_user_limit').where('code', '=', code).executeTakeFirst();
  const used = await couponUses(tx, code, userId);
  if (limit && limit.per_user_limit > 0 && used >= limit.per_user_limit) {
    throw new DomainError(ErrorCode.PREVIEW_EXPIRED, `coupon ${code} reached its per-user limit: preview again without it`);
  }
  await db(tx).insertInto('coupon_use').values({ code, user_id: userId, order_id: orderId }).execute();
}

/** How long placeOrder waits for inventory's synchronous reservation (RESERVE_TIMEOUT_MS, default 8000). */
const reserveTimeoutMs = (): number => envInt('RESERVE_TIMEOUT_MS', 8000);
/** How much longer than that the fallback order.created is held back. */
const FALLBACK_MARGIN_MS = 5000;

/** Per database (its driver): the batch commit of flash-sale placements. */
const flashBatchers = new WeakMap<object, BatchCommit<FlashPlacement, Placed>>();
/** Per database (its driver): the batch commit that records inventory's answers. */
const answerBatchers = new WeakMap<object, BatchCommit<Answered, OrderRow>>();

/** The batcher of `em`'s database kept in `batchers`, made once per database by `make` (given a fork of the root). */
function batcherOf<B>(batchers: WeakMap<object, B>, em: EntityManager, make: (fork: () => EntityManager) => B): B {
  const driver = em.getDriver();
  let batcher = batchers.get(driver);
  if (!batcher) {
    const root = em.fork();
    batcher = make(() => root.fork());
    batchers.set(driver, batcher);
  }
  return batcher;
}

/**
 * A flash sale's admitted clicks place their orders all at once: each placement is a few statements
 * on rows of its own (its request key, order, items, audit row and order.created), so concurrent ones
 * share a transaction, and their one-statement writes go together (writeOrders, one statement per
 * power of two of them). A placement refused inside it (prices changed, risk) rolls the shared one
 * back and every placement of the group runs again alone (kit group-commit.ts): the others still commit.
 */
const flashPlacementsOf = (em: EntityManager): BatchCommit<FlashPlacement, Placed> =>
  batcherOf(flashBatchers, em, (fork) =>
    batchCommit<FlashPlacement, Placed>({
      name: 'order-flash-placements',
      fork,
      many: async (tx, placements) => {
        const placed: Placed[] = [];
        const writes = placements.flatMap((p, i) => ('write' in p ? [i] : []));
        for (const run of inPowersOfTwo(writes)) {
          const written = await writeOrders(
            tx,
            run.map((i) => (placements[i] as { write: OrderWrite }).write),
          );
          run.forEach((i, k) => (placed[i] = written[k]!));
        }
        for (const [i, p] of placements.entries()) if ('work' in p) placed[i] = await p.work(tx);
        return placed;
      },
    }),
  );

/** A flash placement for its group: the one-statement write, or the transactional placement's work. */
type FlashPlacement = { write: OrderWrite } | { work: (tx: EntityManager) => Promise<Placed> };

/** Inventory's answer to one placement's synchronous reservation, to be recorded on its order. */
interface Answered {
  written: OrderRow;
  answer: ReserveAnswer;
  correlationId: string;
  createdEventId: string;
}

/**
 * Recording inventory's answer moves one order, from the row its placement wrote, and withdraws its
 * held-back order.created: the answers of concurrent placements are recorded together, in one
 * transaction and one statement for the moves to the same status (moveOrders), so the database
 * commits once, and the relay wakes once, for many orders. Each placement still answers only after
 * its own answer committed.
 */
const answersOf = (em: EntityManager): BatchCommit<Answered, OrderRow> =>
  batcherOf(answerBatchers, em, (fork) =>
    batchCommit<Answered, OrderRow>({
      name: 'order-reservation-answers',
      fork,
      many: async (tx, answers) => (await moveOrders(tx, answers.map(answerMove))).map((result) => result.order),
    }),
  );

/**
 * The move that records an answer: on HOLD the order waits for payment (or review), on REJECTED it
 * is canceled as OUT_OF_STOCK. Tried against the order as the placement wrote it (no lock unless it
 * changed since), with the withdrawal of the held-back order.created in the move's statement.
 */
function answerMove({ written, answer, correlationId, createdEventId }: Answered): OrderMove {
  const options = { expected: written, alongside: withdrawal(createdEventId) };
  if (answer.state === 'HOLD') return stockHeldMove(written, correlationId, { allocations: answer.allocations }, options);
  const audit = { shortages: answer.shortages };
  return { orderId: written.id, to: 'CANCELED', options: { reason: 'OUT_OF_STOCK', correlationId, onlyFrom: ['CREATED'], audit, ...options } };
}

/**
 * The synchronous reservation of a normal order. On HOLD the order waits for payment; on REJECTED
 * it is canceled as OUT_OF_STOCK; either way the held-back order.created is withdrawn in the same
 * transaction (shared with other placements' answers: answersOf), so inventory does not reserve
 * again and nothing answers back. Answers the order as it now is. If inventory does not answer,
 * the order stays CREATED, order.created goes out at once and the asynchronous path
 * (order.created → inventory → stock-reserved/rejected) finishes it.
 */
async function reserveNow(
  em: EntityManager,
  written: OrderRow,
  lines: { skuId: string; qty: number }[],
  expireAt: Date,
  correlationId: string,
  createdEventId: string,
): Promise<OrderRow | undefined> {
  const orderId = written.id;
  let answer: ReserveAnswer;
  try {
    answer = await callInternal<ReserveAnswer>(
      'order',
      'inventory',
      '/internal/v1/reservations',
      { orderId, lines: lines.map((l) => ({ skuId: l.skuId, qty: l.qty })), expireAt: expireAt.toISOString() },
      correlationId,
      reserveTimeoutMs(),
    );
  } catch (error) {
    logger.warn({ err: error, orderId }, 'synchronous reservation failed; the order continues on the asynchronous path');
    await releaseEvent(em, createdEventId);
    return undefined;
  }
  noteReservation(answer.state === 'HOLD' ? { held: lines } : { shortages: answer.shortages });
  return answersOf(em).run({ written, answer, correlationId, createdEventId });
}
