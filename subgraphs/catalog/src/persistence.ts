import { describeDatabase, kysely, type EntityManager, type GeneratedAlways, type KyselyDb } from '@shop/kit';
import { entities } from './domain/entities.js';
import { migrations } from './migrations/index.js';

/** The catalog schema: its entities are the one description of each table; migrations are generated from them. */
export const database = describeDatabase('catalog', entities, migrations, import.meta.url);

type Inferred = KyselyDb<typeof entities>;
/** The catalog tables as Kysely sees them, inferred from the entities; PostgreSQL computes `product.search`. */
export type Db = Omit<Inferred, 'product'> & { product: Omit<Inferred['product'], 'search'> & { search: GeneratedAlways<string> } };

/** Typed SQL bound to `em` (and to its transaction inside `em.transactional`). */
export const db = (em: EntityManager) => kysely<Db>(em);
