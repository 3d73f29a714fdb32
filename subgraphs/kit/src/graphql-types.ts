import { Directive, Field, Int, ObjectType } from 'type-graphql';

/** Money in integer minor units plus an ISO-4217 currency. Never floats. */
@Directive('@shareable')
@ObjectType({ description: 'Money in integer minor units (cents, fen). Never floats.' })
export class Money {
  @Field(() => Int)
  amount!: number;

  @Field(() => String, { description: 'ISO-4217, e.g. "CNY"' })
  currency!: string;

  static of(amount: number, currency: string): Money {
    return Object.assign(new Money(), { amount, currency });
  }
}

@Directive('@shareable')
@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor?: string | null;
}
