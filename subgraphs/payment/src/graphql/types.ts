import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { Money } from '@shop/kit';

@ObjectType({ description: 'A payment of an order at the payment provider' })
export class Payment {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'PENDING, SUCCEEDED, FAILED or REFUNDED' })
  status!: string;

  @Field(() => String, { nullable: true, description: "the provider's transaction id, once it succeeded" })
  paymentTxnId?: string | null;

  @Field(() => Money)
  amount!: Money;
}

@ObjectType()
export class PaymentSession {
  @Field(() => ID)
  paymentId!: string;

  @Field(() => String, { description: 'where the buyer pays: a page of the payment-provider simulator' })
  redirectUrl!: string;

  @Field(() => Money)
  amount!: Money;
}

/** The order subgraph's Order, extended with its payment. */
@Directive('@key(fields: "id")')
@ObjectType()
export class Order {
  @Field(() => ID)
  id!: string;
}
