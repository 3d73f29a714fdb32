import { fetchEntities, groupBy, logger, newId, type EntityManager, type Selectable } from '@shop/kit';
import { db, type Db } from '../persistence.js';
import type { EventEnvelope } from '@shop/schema';
import { audit, lockOrderShipments, shipmentIdsOfOrders, type ShipmentRow } from './shipment-state.js';

/** What fulfillment reads of an order when it creates its shipments: the buyer and the unit prices. */
interface OrderFacts {
  id: string;
  userId: string;
  items: { sku: { id: string }; qty: number; unitPrice: { amount: number; currency: string } }[];
}

/**
 * The documented synchronous read of fulfillment: the order's buyer and unit prices through the
 * order subgraph's `_entities` (timeout 3 s). Throws when the order subgraph does not answer, so the
 * consumer retries the event later.
 */
async function fetchOrderFacts(orderId: string, correlationId: string): Promise<OrderFacts | undefined> {
  const found = await fetchEntities<OrderFacts>(
    'fulfillment',
    'order',
    'Order',
    [orderId],
    'userId items { sku { id } qty unitPrice { amount currency } }',
    correlationId,
  );
  return found.get(orderId);
}

/**
 * inventory.stock-confirmed: the order is paid and its stock sold. One shipment per warehouse with
 * the SKUs allocated there; the unique (order_id, warehouse_id) of shipment_key makes a redelivery create nothing.
 */
export async function createShipments(tx: EntityManager, event: EventEnvelope<'inventory.stock-confirmed'>): Promise<void> {
  const { orderId, allocations } = event.payload;
  await lockOrderShipments(tx, orderId);
  const canceled = await db(tx).selectFrom('canceled_order').select('order_id').where('order_id', '=', orderId).executeTakeFirst();
  if (canceled) {
    logger.info({ orderId }, 'order was refunded before shipping: no shipments');
    return;
  }
  const order = await fetchOrderFacts(orderId, event.correlationId);
  if (!order) {
    logger.error({ orderId, eventId: event.eventId }, 'stock confirmed for an order the order subgraph does not know: no shipments created');
    return;
  }
  const prices = new Map(order.items.map((i) => [i.sku.id, i.unitPrice]));
  const byWarehouse = new Map<string, Map<string, number>>();
  for (const a of allocations) {
    const skus = byWarehouse.get(a.warehouseId) ?? new Map<string, number>();
    skus.set(a.skuId, (skus.get(a.skuId) ?? 0) + a.qty);
    byWarehouse.set(a.warehouseId, skus);
  }
  for (const [warehouseId, skus] of byWarehouse) {
    const id = newId('shp');
    // The key first (shipment_key, unique across partitions): a redelivery finds it and creates nothing.
    const claimed = await db(tx)
      .insertInto('shipment_key')
      .values({ shipment_id: id, order_id: orderId, warehouse_id: warehouseId })
      .onConflict((oc) => oc.columns(['order_id', 'warehouse_id']).doNothing())
      .executeTakeFirst();
    if (claimed.numInsertedOrUpdatedRows === 0n) continue;
    await db(tx).insertInto('shipment').values({ id, order_id: orderId, user_id: order.userId, warehouse_id: warehouseId, status: 'PENDING' }).execute();
    const items = [...skus].map(([skuId, qty]) => {
      const price = prices.get(skuId);
      if (!price) logger.warn({ orderId, skuId }, 'allocated SKU is not an item of the order: unit price recorded as 0');
      return { shipment_id: id, sku_id: skuId, qty, unit_price: price?.amount ?? 0, currency: price?.currency ?? order.items[0]?.unitPrice.currency ?? 'CNY' };
    });
    await db(tx).insertInto('shipment_item').values(items).execute();
    await audit(tx, { id, order_id: orderId }, 'CREATED', null, {
      warehouseId,
      items: [...skus].map(([skuId, qty]) => ({ skuId, qty })),
      eventId: event.eventId,
    });
  }
}

export type ShipmentItemRow = Selectable<Db['shipment_item']>;

export async function shipmentsByOrders(em: EntityManager, orderIds: readonly string[]): Promise<Map<string, ShipmentRow[]>> {
  const ids = await shipmentIdsOfOrders(em, orderIds);
  if (ids.length === 0) return new Map();
  const found = await db(em).selectFrom('shipment').selectAll().where('id', 'in', ids).orderBy('order_id').orderBy('warehouse_id').execute();
  return groupBy(found, (s) => s.order_id);
}

export async function itemsByShipments(em: EntityManager, shipmentIds: readonly string[]): Promise<Map<string, ShipmentItemRow[]>> {
  if (shipmentIds.length === 0) return new Map();
  const found = await db(em)
    .selectFrom('shipment_item')
    .selectAll()
    .where('shipment_id', 'in', [...shipmentIds])
    .orderBy('shipment_id')
    .orderBy('sku_id')
    .execute();
  return groupBy(found, (i) => i.shipment_id);
}
