import { subgraphUrl } from './config.js';
import { CORRELATION_HEADER } from './identity.js';
import { withTimeout } from './readiness.js';

export interface SkuFacts {
  id: string;
  productId: string;
  title: string;
  flashSale: boolean;
  price: { amount: number; currency: string };
}

const QUERY = `query SkuFacts($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Sku { id title flashSale productId price { amount currency } }
  }
}`;

/**
 * The one synchronous call between subgraphs (documented in README): cart and order read the
 * authoritative price and flash-sale flag of SKUs from the catalog, in one batched federation
 * `_entities` request with a timeout. Unknown SKUs are absent from the returned map.
 */
export async function fetchSkuFacts(ids: readonly string[], correlationId: string, timeoutMs = 2000): Promise<Map<string, SkuFacts>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const response = await withTimeout(
    fetch(subgraphUrl('catalog'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CORRELATION_HEADER]: correlationId },
      body: JSON.stringify({ query: QUERY, variables: { representations: unique.map((id) => ({ __typename: 'Sku', id })) } }),
    }),
    timeoutMs,
    `catalog did not answer within ${timeoutMs} ms`,
  );
  if (!response.ok) throw new Error(`catalog answered HTTP ${response.status}`);
  const body = (await response.json()) as { data?: { _entities: (SkuFacts | null)[] }; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(`catalog lookup failed: ${body.errors?.[0]?.message ?? 'no data'}`);
  return new Map(body.data._entities.filter((s): s is SkuFacts => s !== null).map((s) => [s.id, s]));
}
