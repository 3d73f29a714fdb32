import { readFile } from 'node:fs/promises';
import { logger, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';

interface DemoFile {
  warehouses?: string[];
  products: { skus: { id: string; stock?: Record<string, number> }[] }[];
}

/** Loads the demo warehouses and stock named by DEMO_DATA (npm start sets it); running it again changes nothing. */
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
          const res = await db(tx)
            .insertInto('stock')
            .values({ sku_id: sku.id, warehouse_id: wh, available: onHand })
            .onConflict((oc) => oc.columns(['sku_id', 'warehouse_id', 'bucket']).doNothing())
            .executeTakeFirst();
          created += Number(res.numInsertedOrUpdatedRows);
        }
      }
    }
  });
  logger.info({ created }, 'demo stock loaded');
}
