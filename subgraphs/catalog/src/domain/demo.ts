import { readFile } from 'node:fs/promises';
import { logger, type EntityManager } from '@shop/kit';

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
    const conn = tx.getConnection();
    const ctx = tx.getTransactionContext();
    for (const product of demo.products) {
      const res = await conn.execute<{ affectedRows: number }>(
        // Images and category follow the file (they came after the first demo catalogs); titles stay as edited.
        `INSERT INTO product (id, title, description, images, category) VALUES (?, ?, ?, ARRAY(SELECT jsonb_array_elements_text(?::jsonb)), ?)
         ON CONFLICT (id) DO UPDATE SET images = EXCLUDED.images, category = EXCLUDED.category
         WHERE (product.images, product.category) IS DISTINCT FROM (EXCLUDED.images, EXCLUDED.category)`,
        [product.id, product.title, product.description, JSON.stringify(product.images ?? []), product.category ?? null],
        'run',
        ctx,
      );
      created += res.affectedRows;
      for (const sku of product.skus) {
        await conn.execute(
          'INSERT INTO sku (id, product_id, title, price_amount, currency, flash_sale) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
          [sku.id, product.id, sku.title, sku.price, sku.currency, sku.flashSale ?? false],
          'run',
          ctx,
        );
      }
    }
  });
  logger.info({ created, total: demo.products.length }, 'demo catalog loaded');
}
