import { readFile } from 'node:fs/promises';
import { logger, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';

interface DemoFile {
  products: { id: string; title: string; description: string; skus: { id: string; title: string; price: number; currency: string; flashSale?: boolean }[] }[];
}

/** Loads the demo catalog named by DEMO_DATA (npm start sets it); running it again changes nothing. */
export async function loadDemoCatalog(em: EntityManager, path: string): Promise<void> {
  const demo = JSON.parse(await readFile(path, 'utf8')) as DemoFile;
  let created = 0;
  await em.transactional(async (tx) => {
    for (const product of demo.products) {
      const res = await db(tx)
        .insertInto('product')
        .values({ id: product.id, title: product.title, description: product.description })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      created += Number(res.numInsertedOrUpdatedRows);
      if (product.skus.length === 0) continue;
      await db(tx)
        .insertInto('sku')
        .values(
          product.skus.map((sku) => ({
            id: sku.id,
            product_id: product.id,
            title: sku.title,
            price_amount: sku.price,
            currency: sku.currency,
            flash_sale: sku.flashSale ?? false,
          })),
        )
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
  });
  logger.info({ created, total: demo.products.length }, 'demo catalog loaded');
}
