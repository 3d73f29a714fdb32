import { envInt, groupBy, idFloor, type EntityManager, type Selectable } from '@shop/kit';
import { db, type Db } from '../persistence.js';
import type { OrderRow, OrderStatus } from './order-state.js';

export type { OrderRow };
export type OrderItemRow = Selectable<Db['order_item']>;

/**
 * Archived orders (archive.ts) live in the schema ordering_archive, in tables with the live ones'
 * columns: read them with the same typed queries.
 */
export const ARCHIVE_SCHEMA = 'ordering_archive';
const archived = (em: EntityManager) => db(em).withSchema(ARCHIVE_SCHEMA);

/**
 * Rows of the given orders from the live tables and, for the orders that have none there, from the
 * archive: a live order costs one query, an archived one a second (slower is fine for cold orders).
 */
export async function liveThenArchived<R extends { order_id: string } | { id: string }>(
  ids: readonly string[],
  read: (q: ReturnType<typeof db>, ids: string[]) => Promise<R[]>,
  em: EntityManager,
): Promise<R[]> {
  if (ids.length === 0) return [];
  const live = await read(db(em), [...ids]);
  const found = new Set(live.map((r) => ('order_id' in r ? r.order_id : r.id)));
  const missing = ids.filter((id) => !found.has(id));
  return missing.length === 0 ? live : [...live, ...(await read(archived(em), missing))];
}

export const findOrder = async (em: EntityManager, id: string): Promise<OrderRow | undefined> => (await ordersByIds(em, [id])).get(id);

export async function ordersByIds(em: EntityManager, ids: readonly string[]): Promise<Map<string, OrderRow>> {
  const rows = await liveThenArchived(ids, (q, some) => q.selectFrom('orders').selectAll().where('id', 'in', some).execute(), em);
  return new Map(rows.map((r) => [r.id, r]));
}

export async function itemsByOrders(em: EntityManager, ids: readonly string[]): Promise<Map<string, OrderItemRow[]>> {
  const rows = await liveThenArchived(ids, (q, some) => q.selectFrom('order_item').selectAll().where('order_id', 'in', some).orderBy('sku_id').execute(), em);
  return groupBy(rows, (r) => r.order_id);
}

/**
 * How far back the first queries of a user's order list look (ORDER_LIST_RECENT_DAYS, default 90):
 * an order id is its creation time (UUIDv7), so `id >= idFloor(…)` reads only the partitions of
 * that window. A page they do not fill continues below it, in the older partitions.
 */
const recentDays = () => envInt('ORDER_LIST_RECENT_DAYS', 90);

/**
 * The user's orders newest first (paged by id), live and archived merged by id: the recent window
 * first (the live partitions from then to now, and the archive's index), then below it when the page is not full.
 */
export async function listOrders(
  em: EntityManager,
  userId: string,
  limit: number,
  after: string | undefined,
  status: OrderStatus | undefined,
): Promise<OrderRow[]> {
  const floor = idFloor('ord', new Date(Date.now() - recentDays() * 86_400_000));
  // No order id is from the future (a day of margin for clocks): the partitions made ahead are not read.
  const ceiling = idFloor('ord', new Date(Date.now() + 86_400_000));
  const page = (q: ReturnType<typeof db>, below: string | undefined, from: string | undefined, n: number) =>
    q
      .selectFrom('orders')
      .selectAll()
      .where('user_id', '=', userId)
      .$if(below !== undefined, (w) => w.where('id', '<', below!))
      .$if(from !== undefined, (w) => w.where('id', '>=', from!))
      .$if(status !== undefined, (w) => w.where('status', '=', status!))
      .orderBy('id', 'desc')
      .limit(n)
      .execute();
  const both = async (below: string | undefined, from: string | undefined, n: number) => {
    const [live, cold] = await Promise.all([page(db(em), below, from, n), page(archived(em), below, from, n)]);
    return [...live, ...cold].sort((a, b) => (a.id < b.id ? 1 : -1)).slice(0, n);
  };
  const recent = after === undefined || after > floor ? await both(after ?? ceiling, floor, limit) : [];
  if (recent.length === limit) return recent;
  return [...recent, ...(await both(after !== undefined && after < floor ? after : floor, undefined, limit - recent.length))];
}
