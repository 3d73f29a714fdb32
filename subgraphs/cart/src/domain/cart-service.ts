import { badInput, type EntityManager } from '@shop/kit';
import { assertSameCurrency } from './pricing.js';

export const MAX_LINE_QTY = 99;
export const MAX_LINES = 50;

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

export async function cartLines(em: EntityManager, userId: string): Promise<CartLine[]> {
  return em.getConnection().execute<CartLine[]>(`SELECT sku_id AS "skuId", qty FROM cart_line WHERE user_id = ? ORDER BY added_at, sku_id`, [userId]);
}

type Write = { kind: 'add'; qty: number } | { kind: 'set'; qty: number };

/**
 * Adds to or sets a line in one transaction that first takes the user's cart lock (an advisory
 * transaction lock), so the one-currency and 50-line limits hold under concurrent requests; the
 * quantity itself changes in one conditional upsert whose affected row count is checked.
 */
async function writeLine(em: EntityManager, userId: string, skuId: string, currency: string, write: Write): Promise<void> {
  await em.transactional(async (tx) => {
    const conn = tx.getConnection();
    const ctx = tx.getTransactionContext();
    await conn.execute(`SELECT pg_advisory_xact_lock(hashtext(?))`, [`cart:${userId}`], 'all', ctx);
    const [cart] = await conn.execute<{ lines: number; present: boolean; currency: string | null }[]>(
      `SELECT count(*)::int AS lines, coalesce(bool_or(sku_id = ?), false) AS present, min(currency) FILTER (WHERE sku_id <> ?) AS currency
         FROM cart_line WHERE user_id = ?`,
      [skuId, skuId, userId],
      'all',
      ctx,
    );
    assertSameCurrency(cart?.currency?.trim() ?? undefined, currency);
    if (!cart?.present && (cart?.lines ?? 0) >= MAX_LINES) {
      throw badInput(`a cart holds at most ${MAX_LINES} different SKUs; remove one first`, { field: 'skuId' });
    }
    const qtySql = write.kind === 'add' ? 'cart_line.qty + excluded.qty' : 'excluded.qty';
    const res = await conn.execute<{ affectedRows: number }>(
      `INSERT INTO cart_line (user_id, sku_id, qty, currency) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, sku_id) DO UPDATE SET qty = ${qtySql}, currency = excluded.currency, updated_at = now()
       WHERE ${qtySql} <= ${MAX_LINE_QTY}`,
      [userId, skuId, write.qty, currency],
      'run',
      ctx,
    );
    if (res.affectedRows !== 1) {
      throw badInput(`a cart line holds at most ${MAX_LINE_QTY} of a SKU; adding ${write.qty} would exceed it`, { field: 'qty' });
    }
  });
}

export const addToLine = (em: EntityManager, userId: string, skuId: string, currency: string, qty: number) =>
  writeLine(em, userId, skuId, currency, { kind: 'add', qty });

export const setLineQty = (em: EntityManager, userId: string, skuId: string, currency: string, qty: number) =>
  writeLine(em, userId, skuId, currency, { kind: 'set', qty });

export async function removeLine(em: EntityManager, userId: string, skuId: string): Promise<void> {
  await em.getConnection().execute(`DELETE FROM cart_line WHERE user_id = ? AND sku_id = ?`, [userId, skuId], 'run');
}
