import { Field, ID, Int, ObjectType } from 'type-graphql';

/** One row of an order's audit trail (order_event). */
@ObjectType()
export class OrderEvent {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'e.g. ORDER_PAID' })
  type!: string;

  @Field(() => String, { nullable: true })
  fromStatus!: string | null;

  @Field(() => String)
  toStatus!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => String, { description: 'the facts recorded with the transition (reason, payment, refund, actor), as JSON' })
  details!: string;

  @Field(() => Date)
  at!: Date;
}
