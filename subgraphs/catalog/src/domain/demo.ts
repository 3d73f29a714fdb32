import { readFile } from 'node:fs/promises';
import { logger, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';

interface DemoFile {
  products: {
    id: string;
    title: string;
    description: string;
    images?: string[];
    category?: string;
    skus: { id: string; title: string; price: number; currency: string; flashSale?: boolean }[];
  }[];
}

/** Loads the demo catalog named by DEMO_DATA (npm start sets it); running it again changes nothing. */
export async function loadDemoCatalog(em: EntityManager, path: string): Promise<void> {
  const demo = JSON.parse(await readFile(path, 'utf8')) as DemoFile;
  let created = 0;
  await em.transactional(async (tx) => {
    for (const product of demo.products) {
      // Images and category follow the file (they came after the first demo catalogs); titles stay as edited.
      const res = await db(tx)
        .insertInto('product')
        .values({ id: product.id, title: product.title, description: product.description, images: product.images ?? [], category: product.category ?? null })
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet((eb) => ({ images: eb.ref('excluded.images'), category: eb.ref('excluded.category') }))
            .where((eb) =>
              eb(
                eb.tuple(eb.ref('product.images'), eb.ref('product.category')),
                'is distinct from',
                eb.tuple(eb.ref('excluded.images'), eb.ref('excluded.category')),
              ),
            ),
        )
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
