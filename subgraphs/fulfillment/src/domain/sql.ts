import { sql, type EntityManager } from '@shop/kit';

/** Raw SQL in the caller's transaction (or autocommit outside one); `?` placeholders. */
export const rows = <T>(em: EntityManager, query: string, params: unknown[] = []): Promise<T[]> => sql(em).all<T>(query, params);

export const run = (em: EntityManager, query: string, params: unknown[] = []): Promise<number> => sql(em).run(query, params);

export const placeholders = (values: readonly unknown[]): string => values.map(() => '?').join(', ');
