import { FlashAdmission, admissionRefusal, badInput, createRedis, logger, throttled, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';
import { paymentGraceSeconds } from './lifecycle.js';
import type { OrderRow, OrderStatus } from './order-state.js';

/**
 * The order subgraph's side of the flash-sale admission (kit flash-admission.ts): the gateway
 * refuses most clicks before they arrive here; this module makes the decision binding.
 *
 * - previewOrder of a flash SKU admits the buyer (the same Lua script as the gateway's, idempotent
 *   for a buyer already admitted there), so a preview exists only for an admitted buyer;
 * - placeOrder claims the admission for its order before the order is written: a buyer without
 *   one, or with an order already, writes nothing;
 * - every move of a flash order tells Redis: held (PENDING_PAYMENT, REVIEW) or released (CANCELED).
 */
export const flashSale: { admission?: FlashAdmission } = {};

export function startFlashSale(): { stop(): void } {
  const redis = createRedis({ name: 'order-flash-sale' });
  flashSale.admission = new FlashAdmission(redis);
  return {
    stop() {
      flashSale.admission = undefined;
      redis.disconnect();
    },
  };
}

const admission = (): FlashAdmission => {
  if (!flashSale.admission) throw new Error('the order subgraph was not started (flash-sale admission)');
  return flashSale.admission;
};

const registered = new Set<string>();

/** A flash-sale SKU is bought alone, one unit per order: an admission is one unit. */
function flashLine(lines: readonly { skuId: string; qty: number }[]): string {
  if (lines.length !== 1 || lines[0]!.qty !== 1) throw badInput('A flash-sale SKU is ordered alone, one unit per order', { field: 'items' });
  return lines[0]!.skuId;
}

/** Redis unreachable: no flash sale (never an unchecked one); the buyer is told to try again. */
async function orRefuse<T>(skuId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    logger.warn({ err: error, skuId }, 'flash-sale admission unavailable; refusing the click');
    throw throttled(skuId, 'UNAVAILABLE', 1000);
  }
}

/** Admits the buyer to the SKU's flash sale, or throws the refusal. Answers the buyer's place in the queue. */
export async function admitPreview(userId: string, lines: readonly { skuId: string; qty: number }[], startsAt: Date | null): Promise<number> {
  const skuId = flashLine(lines);
  const gate = admission();
  if (!registered.has(skuId)) {
    await orRefuse(skuId, () => gate.register(skuId, startsAt));
    registered.add(skuId);
  }
  const answer = await orRefuse(skuId, () => gate.admit(skuId, userId));
  // No state yet: inventory publishes a registered SKU's stock within FLASH_SALE_SYNC_MS.
  if (answer.kind === 'UNKNOWN') {
    registered.delete(skuId);
    throw throttled(skuId, 'OPENING', 500);
  }
  const refusal = admissionRefusal(skuId, answer);
  if (refusal) throw refusal;
  return answer.kind === 'ADMITTED' ? answer.position : 0;
}

/**
 * A single-line preview failed for another reason than the admission's answer (the gateway may
 * have admitted the buyer before it): the unit is promised to nobody again. Never fails the answer.
 */
export async function giveBackAdmission(userId: string, lines: readonly { skuId: string; qty: number }[]): Promise<void> {
  if (lines.length !== 1 || !flashSale.admission) return;
  await flashSale.admission
    .giveBack(lines[0]!.skuId, userId)
    .catch((error: unknown) => logger.warn({ err: error }, 'flash-sale admission not given back; it expires'));
}

/**
 * Binds the buyer's admission to the order about to be written. Answers the undo for a placement
 * that fails before its order commits.
 */
export async function claimPlacement(userId: string, lines: readonly { skuId: string; qty: number }[], orderId: string): Promise<() => Promise<void>> {
  const skuId = flashLine(lines);
  const gate = admission();
  const claim = await orRefuse(skuId, () => gate.claim(skuId, userId, orderId));
  if (claim.kind === 'NOT_ADMITTED') throw throttled(skuId, 'NOT_ADMITTED', 0);
  if (claim.kind === 'ALREADY') throw admissionRefusal(skuId, claim)!;
  // The undo never fails the placement's own answer: a claim left behind expires (FLASH_SALE_TICKET_TTL_MS).
  return () =>
    gate.unclaim(skuId, userId, orderId).catch((error: unknown) => logger.warn({ err: error, orderId }, 'flash-sale claim not given back; it expires'));
}

/**
 * Tells Redis what happened to a flash order (a hook of moveOrder, inside its transaction). A Redis
 * failure is logged, never fails the move: an admission left behind expires
 * (FLASH_SALE_TICKET_TTL_MS), and PostgreSQL decided the stock anyway.
 */
export async function flashOrderMoved(tx: EntityManager, order: OrderRow, to: OrderStatus, known: { skuIds?: readonly string[] } = {}): Promise<void> {
  if (!order.flash_sale || !flashSale.admission) return;
  if (to !== 'PENDING_PAYMENT' && to !== 'REVIEW' && to !== 'CANCELED') return;
  // A flash order has one line: its SKU as the mover knows it (inventory's allocations), else read.
  const skuId = known.skuIds?.[0] ?? (await db(tx).selectFrom('order_item').select('sku_id').where('order_id', '=', order.id).executeTakeFirst())?.sku_id;
  if (!skuId) return;
  const gate = flashSale.admission;
  try {
    if (to === 'CANCELED') await gate.released(skuId, order.user_id, order.id);
    else {
      const deadline = to === 'REVIEW' ? Date.now() + 86_400_000 : new Date(order.expire_at).getTime();
      await gate.held(skuId, order.user_id, order.id, deadline - Date.now() + paymentGraceSeconds() * 1000);
    }
  } catch (error) {
    logger.warn({ err: error, orderId: order.id }, 'flash-sale admission not updated; it expires by itself');
  }
}
