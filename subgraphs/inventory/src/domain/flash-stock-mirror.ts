import { IsolationLevel } from '@mikro-orm/postgresql';
import { FLASH_HELD_BACKSTOP_MS, FlashAdmission, createRedis, envInt, groupBy, logger, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';

/**
 * Publishes the available units of every flash-sale SKU from PostgreSQL to Redis every
 * FLASH_SALE_SYNC_MS (250 ms), so the shared admission (kit flash-admission.ts) knows "sold out"
 * without a database read per click, and sees units come back (a canceled or timed-out order)
 * within a sync. One grouped read per tick whatever the traffic; every replica may run it: the
 * writes are the same. The SKUs are those the order subgraph registered at a preview; after a
 * Redis restart they register again at the next preview.
 */
export function startFlashStockMirror(em: EntityManager, intervalMs = envInt('FLASH_SALE_SYNC_MS', 250)): { stop(): Promise<void> } {
  const redis = createRedis({ name: 'inventory-flash-stock' });
  const admission = new FlashAdmission(redis);
  let stopped = false;
  let failing = false;
  const tick = async () => {
    const skuIds = await admission.flashSkus();
    if (skuIds.length === 0) return;
    const snapshotAt = await admission.now();
    // One snapshot: the available units and the reservations they already count (those orders stop counting as held in Redis).
    const { rows, recent } = await em.fork().transactional(
      async (tx) => ({
        rows: await db(tx)
          .selectFrom('stock')
          .select(['sku_id', (eb) => eb.fn.sum<string>('available').as('available')])
          .where('sku_id', 'in', skuIds)
          .groupBy('sku_id')
          .execute(),
        recent: await db(tx)
          .selectFrom('reservation')
          .select(['sku_id', 'order_id'])
          .where('sku_id', 'in', skuIds)
          .where('created_at', '>', new Date(Date.now() - FLASH_HELD_BACKSTOP_MS).toISOString())
          .execute(),
      }),
      { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
    );
    const available = new Map(skuIds.map((id) => [id, 0]));
    for (const row of rows) available.set(row.sku_id, Number(row.available));
    const reserved = new Map([...groupBy(recent, (r) => r.sku_id)].map(([skuId, list]) => [skuId, list.map((r) => r.order_id)]));
    await admission.publishAvailable(available, snapshotAt, reserved);
  };
  const loop = (async () => {
    while (!stopped) {
      try {
        await tick();
        failing = false;
      } catch (error) {
        if (!failing) logger.warn({ err: error }, 'flash-sale stock mirror failed; retrying');
        failing = true;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      redis.disconnect();
    },
  };
}
