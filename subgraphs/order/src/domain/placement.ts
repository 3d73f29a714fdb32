import {
  DomainError,
  ErrorCode,
  badInput,
  callInternal,
  emit,
  envInt,
  forbidden,
  logger,
  newId,
  advisoryXactLock,
  parseId,
  type EntityManager,
  type Identity,
} from '@shop/kit';
import { db } from '../persistence.js';
import { recordOrderEvent } from './order-events.js';
import { moveOrder, type OrderRow } from './order-state.js';
import { findOrder } from './orders.js';
import { couponUses, paymentTtlSeconds, quote } from './quote.js';
import { claimPlacement } from './flash-sale.js';
import { assessRisk, currentRules, recordRiskDecision, riskRejected, type RiskClient, type RiskResult } from './risk/index.js';
import { stockHeld } from './risk-review.js';

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
 * order.created outbox event commit together. Normal orders then reserve stock synchronously at
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
  const previewId = parseId('pvw', input.previewId, 'previewId');
  const userId = identity.userId;

  const earlier = await findRequest(em, userId, input.clientReqId);
  if (earlier) return replay(em, earlier, previewId);

  const preview = await db(em)
    .selectFrom('preview as p')
    .leftJoin('address as a', 'a.id', 'p.address_id')
    .selectAll('p')
    .select('a.country')
    .where('p.id', '=', previewId)
    .executeTakeFirst();
  if (!preview) throw badInput(`preview ${previewId} does not exist`, { field: 'previewId' });
  if (preview.user_id !== userId) throw forbidden('This preview belongs to another user');
  if (new Date(preview.expires_at).getTime() <= Date.now())
    throw new DomainError(ErrorCode.PREVIEW_EXPIRED, 'The preview has expired: preview the order again');

  // Re-price with today's prices, coupon rules and shipping rates (seed §17 example 7).
  const current = await quote(em, userId, preview.lines, preview.coupon_code, preview.country, correlationId).catch((error: unknown) => {
    if (error instanceof DomainError) throw new DomainError(ErrorCode.PREVIEW_EXPIRED, `The order changed since the preview (${error.message}): preview again`);
    throw error;
  });
  const changed =
    current.breakdown.total !== preview.total ||
    current.breakdown.discount !== preview.discount ||
    current.breakdown.shippingFee !== preview.shipping_fee ||
    current.breakdown.payable !== preview.payable ||
    current.lines.some((l, i) => l.unitPrice !== preview.lines[i]?.unitPrice);
  if (changed) throw new DomainError(ErrorCode.PREVIEW_EXPIRED, 'Prices or promotions changed since the preview: preview again');

  const orderId = newId('ord');
  // A flash-sale order is written only for a buyer admitted at the preview, once per buyer (flash-sale.ts).
  const unclaim = current.flashSale ? await claimPlacement(userId, current.lines, orderId) : undefined;
  const expireAt = new Date(Date.now() + paymentTtlSeconds() * 1000);
  const rules = await currentRules(em); // before the transaction: no second connection while it holds one
  let created: boolean;
  try {
    created = await em.transactional(async (tx) => {
      const claimed = await db(tx)
        .insertInto('order_request')
        .values({ user_id: userId, client_req_id: input.clientReqId, order_id: orderId, preview_id: previewId })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (claimed.numInsertedOrUpdatedRows === 0n) return false; // another request with this key won; answer with its order
      // Risk control (seed §13): rules are data; REJECT refuses, REVIEW places the order to wait for an
      // admin. The user's orders are counted under a per-user lock held until this order commits, so
      // concurrent attempts of one user are counted one after the other: a per-user limit holds.
      await advisoryXactLock(tx, `risk:user:${userId}`);
      const risk = await assessRisk(
        tx,
        { userId, deviceId: client.deviceId, ip: client.clientIp, payable: current.breakdown.payable, currency: current.currency },
        rules,
      );
      if (risk.action === 'REJECT') throw new RiskRefusal(risk);
      const b = current.breakdown;
      await db(tx)
        .insertInto('orders')
        .values({
          id: orderId,
          user_id: userId,
          status: 'CREATED',
          currency: current.currency,
          total: b.total,
          discount: b.discount,
          shipping_fee: b.shippingFee,
          payable: b.payable,
          coupon_code: current.couponCode,
          address_id: preview.address_id,
          preview_id: previewId,
          flash_sale: current.flashSale,
          expire_at: expireAt,
          device_id: client.deviceId,
          client_ip: client.clientIp,
          risk_review: risk.action === 'REVIEW',
        })
        .execute();
      if (risk.action === 'REVIEW') await recordRiskDecision(tx, risk, orderId);
      await db(tx)
        .insertInto('order_item')
        .values(current.lines.map((line) => ({ order_id: orderId, sku_id: line.skuId, qty: line.qty, unit_price: line.unitPrice })))
        .execute();
      if (current.couponCode) await useCoupon(tx, current.couponCode, userId, orderId);
      await recordOrderEvent(tx, {
        orderId,
        type: 'ORDER_CREATED',
        from: null,
        to: 'CREATED',
        version: 1,
        payload: { clientReqId: input.clientReqId, previewId, ...b },
      });
      await emit(tx, {
        type: 'order.created',
        aggregateId: orderId,
        correlationId,
        payload: {
          orderId,
          userId,
          items: current.lines.map((l) => ({ skuId: l.skuId, qty: l.qty })),
          payable: { amount: b.payable, currency: current.currency },
          expireAt: expireAt.toISOString(),
          flashSale: current.flashSale,
        },
      });
      return true;
    });
  } catch (error) {
    await unclaim?.();
    if (!(error instanceof RiskRefusal)) throw error;
    await em.transactional((tx) => recordRiskDecision(tx, error.risk));
    throw riskRejected();
  }
  if (!created) {
    await unclaim?.();
    const winner = await findRequest(em, userId, input.clientReqId);
    if (!winner) throw new Error('order_request conflict without a committed winner');
    return replay(em, winner, previewId);
  }

  if (!current.flashSale) await reserveNow(em, orderId, current.lines, expireAt, correlationId);
  const order = await findOrder(em, orderId);
  if (!order) throw new Error(`order ${orderId} vanished after commit`);
  if (order.status === 'CANCELED' && order.cancel_reason === 'OUT_OF_STOCK') throw stockNotEnough();
  return { order, replayed: false };
}

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

/**
 * The synchronous reservation of a normal order. On HOLD the order waits for payment; on REJECTED
 * it is canceled as OUT_OF_STOCK. If inventory does not answer, the order stays CREATED and the
 * asynchronous path (order.created → inventory → stock-reserved/rejected) finishes it.
 */
async function reserveNow(em: EntityManager, orderId: string, lines: { skuId: string; qty: number }[], expireAt: Date, correlationId: string): Promise<void> {
  let answer: ReserveAnswer;
  try {
    answer = await callInternal<ReserveAnswer>(
      'order',
      'inventory',
      '/internal/v1/reservations',
      { orderId, lines: lines.map((l) => ({ skuId: l.skuId, qty: l.qty })), expireAt: expireAt.toISOString() },
      correlationId,
      envInt('RESERVE_TIMEOUT_MS', 8000),
    );
  } catch (error) {
    logger.warn({ err: error, orderId }, 'synchronous reservation failed; the order continues on the asynchronous path');
    return;
  }
  await em.transactional(async (tx) => {
    if (answer.state === 'HOLD') {
      await stockHeld(tx, orderId, correlationId, { allocations: answer.allocations });
    } else {
      await moveOrder(tx, orderId, 'CANCELED', { reason: 'OUT_OF_STOCK', correlationId, onlyFrom: ['CREATED'], audit: { shortages: answer.shortages } });
    }
  });
}
