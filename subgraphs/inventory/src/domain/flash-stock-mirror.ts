import { FlashAdmission, createRedis, envInt, logger, type EntityManager } from '@shop/kit';
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
    // Redis's clock before the read: reservations Redis counted as held before it are in what the read sees.
    const snapshotAt = await admission.now();
    const rows = await db(em.fork())
      .selectFrom('stock')
      .select(['sku_id', (eb) => eb.fn.sum<string>('available').as('available')])
      .where('sku_id', 'in', skuIds)
      .groupBy('sku_id')
      .execute();
    const available = new Map(skuIds.map((id) => [id, 0]));
    for (const row of rows) available.set(row.sku_id, Number(row.available));
    await admission.publishAvailable(available, snapshotAt);
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
