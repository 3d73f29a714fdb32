import { fetchEntities, groupBy, logger, newId, type EntityManager, rawSql } from '@shop/kit';
import type { EventEnvelope } from '@shop/schema';
import { audit, lockOrderShipments, type ShipmentRow } from './shipment-state.js';

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
 * the SKUs allocated there; UNIQUE(order_id, warehouse_id) makes a redelivery create nothing.
 */
export async function createShipments(tx: EntityManager, event: EventEnvelope<'inventory.stock-confirmed'>): Promise<void> {
  const { orderId, allocations } = event.payload;
  await lockOrderShipments(tx, orderId);
  const [canceled] = await rawSql(tx).all<{ order_id: string }>('SELECT order_id FROM canceled_order WHERE order_id = ?', [orderId]);
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
    const created = await rawSql(tx).run(
      `INSERT INTO shipment (id, order_id, user_id, warehouse_id, status) VALUES (?, ?, ?, ?, 'PENDING') ON CONFLICT (order_id, warehouse_id) DO NOTHING`,
      [id, orderId, order.userId, warehouseId],
    );
    if (created === 0) continue;
    for (const [skuId, qty] of skus) {
      const price = prices.get(skuId);
      if (!price) logger.warn({ orderId, skuId }, 'allocated SKU is not an item of the order: unit price recorded as 0');
      await rawSql(tx).run('INSERT INTO shipment_item (shipment_id, sku_id, qty, unit_price, currency) VALUES (?, ?, ?, ?, ?)', [
        id,
        skuId,
        qty,
        price?.amount ?? 0,
        price?.currency ?? order.items[0]?.unitPrice.currency ?? 'CNY',
      ]);
    }
    await audit(tx, { id, order_id: orderId }, 'CREATED', null, {
      warehouseId,
      items: [...skus].map(([skuId, qty]) => ({ skuId, qty })),
      eventId: event.eventId,
    });
  }
}

export interface ShipmentItemRow {
  shipment_id: string;
  sku_id: string;
  qty: number;
  unit_price: number;
  currency: string;
}

export async function shipmentsByOrders(em: EntityManager, orderIds: readonly string[]): Promise<Map<string, ShipmentRow[]>> {
  if (orderIds.length === 0) return new Map();
  const found = await rawSql(em).all<ShipmentRow>(`SELECT * FROM shipment WHERE order_id IN (?) ORDER BY order_id, warehouse_id`, [[...orderIds]]);
  return groupBy(found, (s) => s.order_id);
}

export async function itemsByShipments(em: EntityManager, shipmentIds: readonly string[]): Promise<Map<string, ShipmentItemRow[]>> {
  if (shipmentIds.length === 0) return new Map();
  const found = await rawSql(em).all<ShipmentItemRow>(`SELECT * FROM shipment_item WHERE shipment_id IN (?) ORDER BY shipment_id, sku_id`, [[...shipmentIds]]);
  return groupBy(found, (i) => i.shipment_id);
}
