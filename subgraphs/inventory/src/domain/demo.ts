import { readFile } from 'node:fs/promises';
import { logger, type EntityManager } from '@shop/kit';

interface DemoFile {
  warehouses?: string[];
  products: { skus: { id: string; stock?: Record<string, number> }[] }[];
}

/** Loads the demo warehouses and stock named by DEMO_DATA (npm start sets it); running it again changes nothing. */
export async function loadDemoStock(em: EntityManager, path: string): Promise<void> {
  const demo = JSON.parse(await readFile(path, 'utf8')) as DemoFile;
  let created = 0;
  await em.transactional(async (tx) => {
    const conn = tx.getConnection();
    const ctx = tx.getTransactionContext();
    const warehouses = new Set(demo.warehouses ?? []);
    for (const product of demo.products) for (const sku of product.skus) for (const wh of Object.keys(sku.stock ?? {})) warehouses.add(wh);
    for (const wh of warehouses) await conn.execute('INSERT INTO warehouse (id) VALUES (?) ON CONFLICT (id) DO NOTHING', [wh], 'run', ctx);
    for (const product of demo.products) {
      for (const sku of product.skus) {
        for (const [wh, onHand] of Object.entries(sku.stock ?? {})) {
          const res = await conn.execute<{ affectedRows: number }>(
            'INSERT INTO stock (sku_id, warehouse_id, available) VALUES (?, ?, ?) ON CONFLICT (sku_id, warehouse_id) DO NOTHING',
            [sku.id, wh, onHand],
            'run',
            ctx,
          );
          created += res.affectedRows;
        }
      }
    }
  });
  logger.info({ created }, 'demo stock loaded');
}
