import { MAX_LINE_QTY, MAX_LINES, advisoryXactLock, badInput, type EntityManager, dbNow } from '@shop/kit';
import { db } from '../persistence.js';
import { assertSameCurrency } from './pricing.js';

export { MAX_LINE_QTY, MAX_LINES };

export interface CartLine {
  skuId: string;
  qty: number;
}

export function parseQty(qty: number, min: 0 | 1): number {
  if (!Number.isInteger(qty) || qty < min || qty > MAX_LINE_QTY) {
    throw badInput(`qty must be an integer in ${min}..${MAX_LINE_QTY}, got ${qty}`, { field: 'qty' });
  }
  return qty;
}

export function cartLines(em: EntityManager, userId: string): Promise<CartLine[]> {
  return db(em).selectFrom('cart_line').select(['sku_id as skuId', 'qty']).where('user_id', '=', userId).orderBy('added_at').orderBy('sku_id').execute();
}

type Write = { kind: 'add'; qty: number } | { kind: 'set'; qty: number };

/**
 * Adds to or sets a line in one transaction that first takes the user's cart lock (an advisory
 * transaction lock), so the one-currency and 50-line limits hold under concurrent requests; the
 * quantity itself changes in one conditional upsert whose affected row count is checked.
 */
async function writeLine(em: EntityManager, userId: string, skuId: string, currency: string, write: Write): Promise<void> {
  await em.transactional(async (tx) => {
    await advisoryXactLock(tx, `cart:${userId}`);
    const cart = await db(tx)
      .selectFrom('cart_line')
      .select((eb) => [
        eb.fn.countAll<string>().as('lines'),
        eb.fn.coalesce(eb.fn<boolean>('bool_or', [eb('sku_id', '=', skuId)]), eb.lit(false)).as('present'),
        eb.fn.min('currency').filterWhere('sku_id', '<>', skuId).as('currency'),
      ])
      .where('user_id', '=', userId)
      .executeTakeFirst();
    assertSameCurrency(cart?.currency?.trim() ?? undefined, currency);
    if (!cart?.present && Number(cart?.lines ?? 0) >= MAX_LINES) {
      throw badInput(`a cart holds at most ${MAX_LINES} different SKUs; remove one first`, { field: 'skuId' });
    }
    const res = await db(tx)
      .insertInto('cart_line')
      .values({ user_id: userId, sku_id: skuId, qty: write.qty, currency })
      .onConflict((oc) =>
        oc
          .columns(['user_id', 'sku_id'])
          .doUpdateSet((eb) => ({
            qty: write.kind === 'add' ? eb(eb.ref('cart_line.qty'), '+', eb.ref('excluded.qty')) : eb.ref('excluded.qty'),
            currency: eb.ref('excluded.currency'),
            updated_at: dbNow(),
          }))
          // the new quantity, as above: a line never grows past MAX_LINE_QTY
          .where((eb) => eb(write.kind === 'add' ? eb(eb.ref('cart_line.qty'), '+', eb.ref('excluded.qty')) : eb.ref('excluded.qty'), '<=', MAX_LINE_QTY)),
      )
      .executeTakeFirst();
    if (res.numInsertedOrUpdatedRows !== 1n) {
      throw badInput(`a cart line holds at most ${MAX_LINE_QTY} of a SKU; adding ${write.qty} would exceed it`, { field: 'qty' });
    }
  });
}

export const addToLine = (em: EntityManager, userId: string, skuId: string, currency: string, qty: number) =>
  writeLine(em, userId, skuId, currency, { kind: 'add', qty });

export const setLineQty = (em: EntityManager, userId: string, skuId: string, currency: string, qty: number) =>
  writeLine(em, userId, skuId, currency, { kind: 'set', qty });

export async function removeLine(em: EntityManager, userId: string, skuId: string): Promise<void> {
  await db(em).deleteFrom('cart_line').where('user_id', '=', userId).where('sku_id', '=', skuId).execute();
}
