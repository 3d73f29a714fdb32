import { fetchEntities } from './internal-client.js';

export interface SkuFacts {
  id: string;
  productId: string;
  title: string;
  flashSale: boolean;
  /** When a flash-sale SKU's sale opens (ISO date-time); null: open. */
  flashSaleStartsAt: string | null;
  price: { amount: number; currency: string };
  /** The catalog's revision of these facts (grows with every change). */
  revision: number;
}

/**
 * One of the few documented synchronous calls between subgraphs (README, "Shape"): cart, order
 * and inventory read the authoritative price and flash-sale flag of SKUs from the catalog, in one
 * batched `_entities` request through the kit's one `_entities` client, with a timeout. Unknown
 * SKUs are absent from the returned map.
 */
export function fetchSkuFacts(ids: readonly string[], correlationId: string, timeoutMs = 2000): Promise<Map<string, SkuFacts>> {
  const caller = process.env.SERVICE_NAME ?? 'subgraph';
  return fetchEntities<SkuFacts>(
    caller,
    'catalog',
    'Sku',
    ids,
    'title flashSale flashSaleStartsAt productId price { amount currency } revision',
    correlationId,
    timeoutMs,
  );
}
