import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { Money } from '@shop/kit';

/** A reference to the catalog's Sku: the gateway resolves its fields from catalog and inventory. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType()
export class Sku {
  @Field(() => ID)
  id!: string;
}

/** A line of an order; a value type shared with the order subgraph (same fields, same meaning). */
@Directive('@shareable')
@ObjectType()
export class OrderItem {
  @Field(() => Sku)
  sku!: Sku;

  @Field(() => Int)
  qty!: number;

  @Field(() => Money)
  unitPrice!: Money;
}

@ObjectType({ description: 'The part of an order that leaves one warehouse' })
export class Shipment {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  warehouseId!: string;

  @Field(() => String, { description: 'PENDING, PACKED, SHIPPED or DELIVERED' })
  status!: string;

  @Field(() => String, { nullable: true })
  trackingNumber?: string | null;

  /** Not exposed: the items are resolved per shipment in one batch. */
  orderId!: string;

  /** Exposed through a field resolver (createdAt). */
  createdAt!: Date;
}

/** The order subgraph's Order, extended with its shipments. */
@Directive('@key(fields: "id")')
@ObjectType()
export class Order {
  @Field(() => ID)
  id!: string;
}
