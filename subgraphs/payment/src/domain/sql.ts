import type { EntityManager } from '@shop/kit';

/** Raw SQL in the caller's transaction (or autocommit outside one); `?` placeholders. */
export const rows = <T>(em: EntityManager, query: string, params: unknown[] = []): Promise<T[]> =>
  em.getConnection().execute<T[]>(query, params, 'all', em.getTransactionContext());

export const run = async (em: EntityManager, query: string, params: unknown[] = []): Promise<number> =>
  (await em.getConnection().execute<{ affectedRows: number }>(query, params, 'run', em.getTransactionContext())).affectedRows;

export const placeholders = (values: readonly unknown[]): string => values.map(() => '?').join(', ');
