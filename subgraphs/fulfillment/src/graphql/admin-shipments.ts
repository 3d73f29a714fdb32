import { Arg, Ctx, Field, FieldResolver, ID, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { PageInfo, badInput, decodeCursor, pageSize, requireAdmin, toConnection, type SubgraphContext } from '@shop/kit';
import { listShipments } from '../domain/shipment-queue.js';
import { SHIPMENT_STATUSES, type ShipmentStatus } from '../domain/shipment-state.js';
import { toShipment } from './resolvers.js';
import { Order, Shipment } from './types.js';

@ObjectType()
export class ShipmentEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Shipment)
  node!: Shipment;
}

@ObjectType()
export class ShipmentConnection {
  @Field(() => [ShipmentEdge])
  edges!: ShipmentEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

/** The warehouse's work list for the operations console. Admins only. */
@Resolver(() => Shipment)
export class AdminShipmentResolver {
  @Query(() => ShipmentConnection, {
    description: 'admin only: shipments in a status (PENDING, PACKED, SHIPPED, DELIVERED, CANCELED) and warehouse, oldest first',
  })
  async shipments(
    @Ctx() ctx: SubgraphContext,
    @Arg('status', () => String, { nullable: true }) status?: string | null,
    @Arg('warehouseId', () => ID, { nullable: true }) warehouseId?: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<ShipmentConnection> {
    requireAdmin(ctx);
    if (status && !(SHIPMENT_STATUSES as readonly string[]).includes(status))
      throw badInput(`status must be one of ${SHIPMENT_STATUSES.join(', ')}`, { field: 'status' });
    const size = pageSize(first);
    const rows = await listShipments(
      ctx.em,
      { status: (status as ShipmentStatus | null) ?? undefined, warehouseId: warehouseId ?? undefined },
      size + 1,
      after ? decodeCursor(after) : undefined,
    );
    return toConnection(rows.map(toShipment), size, (s) => s.id);
  }

  @FieldResolver(() => Order, { description: 'the order this shipment belongs to' })
  order(@Root() shipment: Shipment): Order {
    return Object.assign(new Order(), { id: shipment.orderId });
  }

  @FieldResolver(() => Date)
  createdAt(@Root() shipment: Shipment): Date {
    return shipment.createdAt;
  }
}
