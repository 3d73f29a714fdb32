import { fetchSkuFacts, logger, sql, type EntityManager, type Expression, type ExpressionBuilder, type SkuFacts, type SqlBool } from '@shop/kit';
import type { EventPayload } from '@shop/schema';
import { db, type Db } from '../persistence.js';

/**
 * The order subgraph's copy of the catalog's SKU facts (table sku_price): catalog.sku-changed keeps
 * it current, and a SKU it has not seen yet is read from the catalog once and stored. Previews and
 * placements price from it, so an order costs the catalog nothing. A price the catalog changes
 * reaches the copy when its event is consumed (normally within milliseconds); placeOrder compares
 * the copy's prices with the signed preview's and refuses a change (PREVIEW_EXPIRED).
 */

/** Stores SKU facts where they are newer than the copy's (a late or repeated event changes nothing). */
export async function storeSkuFacts(em: EntityManager, facts: readonly SkuFacts[]): Promise<void> {
  if (facts.length === 0) return;
  await db(em)
    .insertInto('sku_price')
    .values(
      facts.map((f) => ({
        sku_id: f.id,
        product_id: f.productId,
        title: f.title,
        flash_sale: f.flashSale,
        flash_sale_starts_at: f.flashSaleStartsAt,
        price: f.price.amount,
        currency: f.price.currency,
        revision: f.revision,
      })),
    )
    .onConflict((oc) =>
      oc
        .column('sku_id')
        .doUpdateSet((eb) => ({
          product_id: eb.ref('excluded.product_id'),
          title: eb.ref('excluded.title'),
          flash_sale: eb.ref('excluded.flash_sale'),
          flash_sale_starts_at: eb.ref('excluded.flash_sale_starts_at'),
          price: eb.ref('excluded.price'),
          currency: eb.ref('excluded.currency'),
          revision: eb.ref('excluded.revision'),
          updated_at: sql<Date>`now()`,
        }))
        .where((eb) => eb('sku_price.revision', '<', eb.ref('excluded.revision'))),
    )
    .execute();
}

/** catalog.sku-changed as the facts the copy holds. */
export const factsOfEvent = (e: EventPayload<'catalog.sku-changed'>): SkuFacts => ({
  id: e.skuId,
  productId: e.productId,
  title: e.title,
  flashSale: e.flashSale,
  flashSaleStartsAt: e.flashSaleStartsAt,
  price: e.price,
  revision: e.revision,
});

/**
 * The copy's rows of these SKUs, as a query of its own (`db(em)`) or as a subquery (placement.ts reads
 * them as JSON in one statement with the risk facts).
 */
export const copiedRows = (q: Pick<ExpressionBuilder<Db, never>, 'selectFrom'>, ids: readonly string[]) =>
  q
    .selectFrom('sku_price')
    .select(['sku_id', 'product_id', 'title', 'flash_sale', 'flash_sale_starts_at', 'price', 'currency', 'revision'])
    .where('sku_id', 'in', [...new Set(ids)]);

/**
 * Whether the copy still prices these lines as the preview did: every SKU present at its line's unit
 * price in `currency`, and a flash-sale SKU among them exactly when the preview was a flash sale's (the
 * facts quote() reads). A condition for placeOrder's one-statement placement (placement.ts): when it
 * holds, pricing the lines again would give the preview's lines.
 */
export const copiedAsPreviewed = (
  eb: ExpressionBuilder<Db, never>,
  lines: readonly { skuId: string; unitPrice: number }[],
  currency: string,
  flashSale: boolean,
): Expression<SqlBool> =>
  eb(
    eb
      .selectFrom('sku_price')
      .select(sql<boolean>`count(*) = ${new Set(lines.map((l) => l.skuId)).size} and coalesce(bool_or(flash_sale), false) = ${flashSale}`.as('same'))
      .where((w) => w.or(lines.map((l) => w.and([w('sku_id', '=', l.skuId), w('price', '=', l.unitPrice)]))))
      .where('currency', '=', currency),
    '=',
    true,
  );

type CopiedRow = Awaited<ReturnType<ReturnType<typeof copiedRows>['execute']>>[number];

/** The SKU facts of the copy's rows (read as columns, or as JSON by placement.ts: the same names and values). */
export const factsOfRows = (rows: readonly CopiedRow[]): Map<string, SkuFacts> =>
  new Map(
    rows.map((r) => [
      r.sku_id,
      {
        id: r.sku_id,
        productId: r.product_id,
        title: r.title,
        flashSale: r.flash_sale,
        flashSaleStartsAt: r.flash_sale_starts_at ? new Date(r.flash_sale_starts_at).toISOString() : null,
        price: { amount: r.price, currency: r.currency.trim() },
        revision: r.revision,
      },
    ]),
  );

/**
 * The facts of these SKUs from the copy (or from `read`, the copy's rows the caller already read);
 * those it has not seen yet are read from the catalog (one batched call) and stored. Unknown SKUs
 * are absent from the answer. Within a transaction, the read and the store are statements of that
 * transaction.
 */
export async function copiedSkuFacts(
  em: EntityManager,
  ids: readonly string[],
  correlationId: string,
  read?: Map<string, SkuFacts>,
): Promise<Map<string, SkuFacts>> {
  const found = read ? new Map(read) : factsOfRows(await copiedRows(db(em), ids).execute());
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length === 0) return found;
  const fetched = await fetchSkuFacts(missing, correlationId);
  try {
    await storeSkuFacts(em, [...fetched.values()]);
  } catch (error) {
    // The answer stands; the copy is filled by the next miss or the next event.
    if (em.getTransactionContext()) throw error;
    logger.warn({ err: error }, 'could not store SKU facts read from the catalog');
  }
  for (const [id, facts] of fetched) found.set(id, facts);
  return found;
}
