import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Identity } from './identity.js';

/** What every resolver of every subgraph receives. */
export interface SubgraphContext {
  identity?: Identity;
  correlationId: string;
  /** A fork of the ORM's entity manager: one per request, never shared. */
  em: EntityManager;
  loaders: Map<string, DataLoader<string, unknown>>;
  /** The buyer's address and device as the gateway saw them (risk control); absent for internal calls. */
  clientIp?: string | null;
  deviceId?: string | null;
}

/**
 * A per-request DataLoader: entity references of one query (e.g. every Sku of a cart) are loaded
 * in one batch instead of one SQL query each.
 */
export function loader<V>(ctx: SubgraphContext, name: string, batch: (keys: readonly string[]) => Promise<Map<string, V>>): DataLoader<string, V | null> {
  let found = ctx.loaders.get(name) as DataLoader<string, V | null> | undefined;
  if (!found) {
    found = new DataLoader<string, V | null>(async (keys) => {
      const byKey = await batch(keys);
      return keys.map((key) => byKey.get(key) ?? null);
    });
    ctx.loaders.set(name, found as DataLoader<string, unknown>);
  }
  return found;
}

/** Groups rows by a key, keeping their order: the shape a one-to-many batch loader returns. */
export function groupBy<T>(rows: readonly T[], keyOf: (row: T) => string): Map<string, T[]> {
  const grouped = new Map<string, T[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const list = grouped.get(key);
    if (list) list.push(row);
    else grouped.set(key, [row]);
  }
  return grouped;
}
