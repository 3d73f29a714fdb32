import { describeDatabase, kysely, type EntityManager, type KyselyDb } from '@shop/kit';
import { entities } from './domain/entities.js';
import { migrations } from './migrations/index.js';

/** The ordering schema: its entities are the one description of each table; migrations are generated from them. */
export const database = { ...describeDatabase('ordering', entities, migrations, import.meta.url), poolMax: 20 };

/** The ordering tables as Kysely sees them, inferred from the entities. */
export type Db = KyselyDb<typeof entities>;

/** Typed SQL bound to `em` (and to its transaction inside `em.transactional`). */
export const db = (em: EntityManager) => kysely<Db>(em);
