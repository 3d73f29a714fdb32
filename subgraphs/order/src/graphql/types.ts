import { Directive, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CancelReason as CancelReasons, OrderStatus as OrderStatuses } from '@shop/schema';
import { Money, PageInfo } from '@shop/kit';

export const OrderStatus = Object.fromEntries(OrderStatuses.map((s) => [s, s])) as { [K in (typeof OrderStatuses)[number]]: K };
export type OrderStatus = (typeof OrderStatuses)[number];
export const CancelReason = Object.fromEntries(CancelReasons.map((s) => [s, s])) as { [K in (typeof CancelReasons)[number]]: K };
export type CancelReason = (typeof CancelReasons)[number];
export const StockCheck = { PASS: 'PASS', INSUFFICIENT: 'INSUFFICIENT' } as const;
export type StockCheck = keyof typeof StockCheck;
registerEnumType(OrderStatus, { name: 'OrderStatus' });
registerEnumType(CancelReason, { name: 'CancelReason' });
registerEnumType(StockCheck, { name: 'StockCheck' });

/** A SKU owned by the catalog (and inventory): referenced here by id only. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType()
export class Sku {
  @Field(() => ID)
  id!: string;
}

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

@Directive('@key(fields: "id")')
@ObjectType()
export class Order {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { description: 'the buyer' })
  userId!: string;

  @Field(() => OrderStatus)
  status!: OrderStatus;

  @Field(() => CancelReason, { nullable: true })
  cancelReason?: CancelReason | null;

  @Field(() => Money)
  total!: Money;

  @Field(() => Money)
  discount!: Money;

  @Field(() => Money)
  shippingFee!: Money;

  @Field(() => Money)
  payable!: Money;

  @Field(() => Date)
  expireAt!: Date;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Int, { description: 'increases with every status change' })
  version!: number;
}

@ObjectType()
export class OrderEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Order)
  node!: Order;
}

@ObjectType()
export class OrderConnection {
  @Field(() => [OrderEdge])
  edges!: OrderEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType()
export class OrderPreview {
  @Field(() => ID, { description: 'opaque, tamper-proof, expires; placeOrder prices the order from it' })
  previewId!: string;

  @Field(() => Money)
  total!: Money;

  @Field(() => Money)
  discount!: Money;

  @Field(() => Money)
  shippingFee!: Money;

  @Field(() => Money)
  payable!: Money;

  @Field(() => StockCheck)
  stockCheck!: StockCheck;

  @Field(() => Date)
  expiresAt!: Date;

  @Field(() => Int, {
    nullable: true,
    description: 'flash-sale SKUs: the buyer is admitted, with this many admitted buyers (this one included) waiting for stock; null otherwise',
  })
  queuePosition?: number | null;
}

@ObjectType()
export class PlaceOrderResult {
  @Field(() => Order)
  order!: Order;

  @Field(() => Boolean, { description: 'true when this call returned an order created by an earlier call with the same clientReqId' })
  replayed!: boolean;
}

@ObjectType()
export class Address {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  phone!: string;

  @Field(() => String)
  line1!: string;

  @Field(() => String)
  city!: string;

  @Field(() => String)
  country!: string;
}

@InputType()
export class AddressInput {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  phone!: string;

  @Field(() => String)
  line1!: string;

  @Field(() => String)
  city!: string;

  @Field(() => String, { description: 'ISO-3166 alpha-2, e.g. "CN"' })
  country!: string;
}

@InputType()
export class OrderLineInput {
  @Field(() => ID)
  skuId!: string;

  @Field(() => Int)
  qty!: number;
}

@InputType()
export class PreviewOrderInput {
  @Field(() => [OrderLineInput])
  items!: OrderLineInput[];

  @Field(() => String, { nullable: true })
  couponCode?: string | null;

  @Field(() => ID, { nullable: true })
  addressId?: string | null;
}

@InputType()
export class PlaceOrderInput {
  @Field(() => String, { description: 'idempotency key, unique per user: the same key and preview always yield the same order' })
  clientReqId!: string;

  @Field(() => ID)
  previewId!: string;
}

@ObjectType()
export class Refund {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  orderId!: string;

  @Field(() => String, { description: 'PENDING_APPROVAL (shipped: an admin decides), REQUESTED (at the payment provider), SUCCEEDED, FAILED or REJECTED' })
  status!: string;

  @Field(() => Money)
  amount!: Money;

  @Field(() => String)
  reason!: string;

  @Field(() => Boolean, { description: 'whether the stock returns to available (nothing had shipped)' })
  restock!: boolean;

  @Field(() => Date)
  createdAt!: Date;
}
