import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { Money } from '@shop/kit';

/** A reference to the catalog's Sku: the gateway resolves its fields from catalog and inventory. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType()
export class Sku {
  @Field(() => ID)
  id!: string;
}

@ObjectType()
export class CartItem {
  @Field(() => Sku)
  sku!: Sku;

  @Field(() => Int)
  qty!: number;
}

@ObjectType()
export class Cart {
  @Field(() => [CartItem])
  items!: CartItem[];

  @Field(() => Money, { description: 'sum of unit price x qty at current catalog prices' })
  subtotal!: Money;
}
