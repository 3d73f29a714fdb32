import { badInput } from './errors.js';

export const MAX_PAGE_SIZE = 100;

/** Cursors are opaque to clients: base64url of the sort key of the last row returned. */
export const encodeCursor = (key: string): string => Buffer.from(`c1:${key}`, 'utf8').toString('base64url');

export function decodeCursor(cursor: string): string {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!raw.startsWith('c1:') || raw.length < 4 || cursor.length > 200)
    throw badInput(`after: "${cursor.slice(0, 40)}" is not a cursor this API returned`, { field: 'after' });
  return raw.slice(3);
}

export function pageSize(first: number | undefined | null, fallback = 20): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE}, got ${size}`, { field: 'first' });
  }
  return size;
}

/** Builds a connection from rows fetched with `limit + 1` (the extra row only tells that more exist). */
export function toConnection<T>(rows: T[], size: number, keyOf: (row: T) => string) {
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    edges: page.map((node) => ({ cursor: encodeCursor(keyOf(node)), node })),
    pageInfo: { hasNextPage: rows.length > size, endCursor: last ? encodeCursor(keyOf(last)) : null },
  };
}
