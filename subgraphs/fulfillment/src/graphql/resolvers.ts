import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Money, badInput, isAdmin, isService, loader, parseId, requireAdmin, type SubgraphContext } from '@shop/kit';
import { transitionShipment, type ShipmentRow, type ShipmentStatus } from '../domain/shipment-state.js';
import { itemsByShipments, shipmentsByOrders } from '../domain/shipments.js';
import { Order, OrderItem, Shipment, Sku } from './types.js';

export const toShipment = (row: ShipmentRow): Shipment =>
  Object.assign(new Shipment(), {
    id: row.id,
    orderId: row.order_id,
    warehouseId: row.warehouse_id,
    status: row.status,
    trackingNumber: row.tracking_number,
    createdAt: new Date(row.created_at),
  });

const shipmentsLoader = (ctx: SubgraphContext) => loader(ctx, 'shipmentsOfOrder', (ids) => shipmentsByOrders(ctx.em, ids));
const itemsLoader = (ctx: SubgraphContext) => loader(ctx, 'itemsOfShipment', (ids) => itemsByShipments(ctx.em, ids));

@Resolver(() => Order)
export class OrderShipmentsResolver {
  @FieldResolver(() => [Shipment], { description: 'several when the order is split across warehouses; its buyer and admins only' })
  async shipments(@Root() order: Order, @Ctx() ctx: SubgraphContext): Promise<Shipment[]> {
    const found = (await shipmentsLoader(ctx).load(order.id)) ?? [];
    const identity = ctx.identity;
    if (!identity) return [];
    return found.filter((s) => s.user_id === identity.userId || isAdmin(identity) || isService(identity)).map(toShipment);
  }
}

const MAX_TRACKING = 100;

@Resolver(() => Shipment)
export class ShipmentResolver {
  @FieldResolver(() => [OrderItem])
  async items(@Root() shipment: Shipment, @Ctx() ctx: SubgraphContext): Promise<OrderItem[]> {
    return ((await itemsLoader(ctx).load(shipment.id)) ?? []).map((i) =>
      Object.assign(new OrderItem(), { sku: Object.assign(new Sku(), { id: i.sku_id }), qty: i.qty, unitPrice: Money.of(i.unit_price, i.currency) }),
    );
  }

  @Mutation(() => Shipment, { description: 'admin only: PENDING -> PACKED' })
  packShipment(@Ctx() ctx: SubgraphContext, @Arg('shipmentId', () => ID) shipmentId: string): Promise<Shipment> {
    return move(ctx, shipmentId, 'PACKED');
  }

  @Mutation(() => Shipment, { description: 'admin only: PACKED -> SHIPPED, with the carrier tracking number' })
  shipShipment(
    @Ctx() ctx: SubgraphContext,
    @Arg('shipmentId', () => ID) shipmentId: string,
    @Arg('trackingNumber', () => String) trackingNumber: string,
  ): Promise<Shipment> {
    const tracking = trackingNumber.trim();
    if (tracking.length < 1 || tracking.length > MAX_TRACKING || !/^[\x21-\x7e ]+$/.test(tracking)) {
      throw badInput(`trackingNumber must be 1..${MAX_TRACKING} printable ASCII characters`, { field: 'trackingNumber' });
    }
    return move(ctx, shipmentId, 'SHIPPED', tracking);
  }

  @Mutation(() => Shipment, { description: 'admin only: SHIPPED -> DELIVERED' })
  deliverShipment(@Ctx() ctx: SubgraphContext, @Arg('shipmentId', () => ID) shipmentId: string): Promise<Shipment> {
    return move(ctx, shipmentId, 'DELIVERED');
  }
}

async function move(ctx: SubgraphContext, shipmentId: string, to: ShipmentStatus, trackingNumber?: string): Promise<Shipment> {
  const admin = requireAdmin(ctx);
  const row = await transitionShipment(ctx.em, {
    shipmentId: parseId('shp', shipmentId, 'shipmentId'),
    to,
    ...(trackingNumber ? { trackingNumber } : {}),
    actor: admin.userId,
    correlationId: ctx.correlationId,
  });
  return toShipment(row);
}
