import { describe, expect, it } from 'vitest';
import { idFloor, newId } from '../ids.js';
import { idAt } from '../testing.js';
import { idsOfOrders, type OrderRow } from './key-retention.js';

const day = 86_400_000;
const orderAt = (ageDays: number) => idAt('ord', new Date(Date.now() - ageDays * day));

/** idsOfOrders with reads that record what they were asked and answer the rows given. */
async function route(orderIds: string[], keyed: OrderRow[] = [], retentionDays = 90) {
  const asked: { keys?: string[]; rows?: string[]; idFrom?: string } = {};
  const ids = await idsOfOrders(
    orderIds,
    { prefix: 'pay', retentionDays: () => retentionDays },
    {
      fromKeys: async (ids) => {
        asked.keys = ids;
        return keyed.filter((k) => ids.includes(k.order_id));
      },
      fromRows: async (ids, idFrom) => {
        asked.rows = ids;
        asked.idFrom = idFrom;
        return ids.map((order_id) => ({ id: `row-of-${order_id}`, order_id }));
      },
    },
  );
  return { ids, asked };
}

describe('idsOfOrders', () => {
  it('reads the key table for orders whose key rows cannot have been pruned, and nothing for none', async () => {
    const recent = newId('ord');
    const { ids, asked } = await route([recent], [{ id: 'pay_1', order_id: recent }]);
    expect(ids).toEqual(['pay_1']);
    expect(asked).toEqual({ keys: [recent] });
    expect((await route([])).ids).toEqual([]);
  });

  it('reads the partitions, from a day before the order on, for orders older than the retention', async () => {
    const old = orderAt(200);
    const older = orderAt(300);
    const recent = newId('ord');
    const { ids, asked } = await route([old, recent, older], [{ id: 'pay_r', order_id: recent }]);
    expect(ids.sort()).toEqual(['pay_r', `row-of-${old}`, `row-of-${older}`].sort());
    expect(asked.keys).toEqual([recent]);
    expect(asked.rows).toEqual([old, older]);
    expect(asked.idFrom).toBe(idFloor('pay', new Date(Number.parseInt(older.slice(4, 16), 16) - day)));
    // Within the retention less a day for clocks, the key table; beyond, the partitions even where a key row is left.
    const keyed = (order: string) => [{ id: 'pay_k', order_id: order }];
    const at88 = orderAt(88);
    expect((await route([at88], keyed(at88))).asked.rows).toBeUndefined();
    const at90 = orderAt(90);
    expect((await route([at90], keyed(at90))).asked).toEqual({ rows: [at90], idFrom: expect.any(String) });
    const at40 = orderAt(40);
    expect((await route([at40], keyed(at40), 30)).asked.rows).toEqual([at40]);
  });

  it('reads the partitions for an order older than the least retention whose key rows are missing (pruned by a replica with a shorter setting)', async () => {
    const order = orderAt(20);
    expect((await route([order], [{ id: 'pay_k', order_id: order }])).asked.rows).toBeUndefined();
    const missing = await route([order], []);
    expect(missing.asked).toMatchObject({ keys: [order], rows: [order] });
    expect(missing.ids).toEqual([`row-of-${order}`]);
    // Younger than the least retention: nothing can have been pruned; an order without payments reads nothing more.
    expect((await route([orderAt(10)], [])).asked.rows).toBeUndefined();
  });

  it('reads every partition for an id that carries no time', async () => {
    const { asked } = await route(['ord_1', newId('ord')]);
    expect(asked.rows).toEqual(['ord_1']);
    expect(asked.idFrom).toBeUndefined();
  });
});
