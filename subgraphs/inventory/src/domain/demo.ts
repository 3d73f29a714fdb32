import { readFile } from 'node:fs/promises';
import { logger, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';
import { FLASH_STOCK_BUCKETS, spread } from './buckets.js';

interface DemoFile {
  warehouses?: string[];
  products: { skus: { id: string; flashSale?: boolean; stock?: Record<string, number> }[] }[];
}

/**
 * Loads the demo warehouses and stock named by DEMO_DATA (npm start sets it); running it again changes
 * nothing. A flash-sale SKU's stock is spread over buckets, as setStock does (buckets.ts).
 */
export async function loadDemoStock(em: EntityManager, path: string): Promise<void> {
  const demo = JSON.parse(await readFile(path, 'utf8')) as DemoFile;
  let created = 0;
  await em.transactional(async (tx) => {
    const warehouses = new Set(demo.warehouses ?? []);
    for (const product of demo.products) for (const sku of product.skus) for (const wh of Object.keys(sku.stock ?? {})) warehouses.add(wh);
    for (const wh of warehouses)
      await db(tx)
        .insertInto('warehouse')
        .values({ id: wh })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    for (const product of demo.products) {
      for (const sku of product.skus) {
        for (const [wh, onHand] of Object.entries(sku.stock ?? {})) {
          const loaded = await db(tx)
            .selectFrom('stock')
            .select('bucket')
            .where('sku_id', '=', sku.id)
            .where('warehouse_id', '=', wh)
            .limit(1)
            .executeTakeFirst();
          if (loaded) continue;
          const shares = sku.flashSale ? spread(onHand, FLASH_STOCK_BUCKETS) : [onHand];
          const res = await db(tx)
            .insertInto('stock')
            .values(shares.map((available, bucket) => ({ sku_id: sku.id, warehouse_id: wh, bucket, available })))
            .onConflict((oc) => oc.columns(['sku_id', 'warehouse_id', 'bucket']).doNothing())
            .executeTakeFirst();
          created += Number((res.numInsertedOrUpdatedRows ?? 0n) > 0n);
        }
      }
    }
  });
  logger.info({ created }, 'demo stock loaded');
}
