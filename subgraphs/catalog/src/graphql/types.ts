import { Directive, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Money, PageInfo } from '@shop/kit';

@Directive('@key(fields: "id")')
@ObjectType()
export class Product {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  title!: string;

  @Field(() => String)
  description!: string;
}

@Directive('@key(fields: "id")')
@ObjectType()
export class Sku {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { description: 'id of the product this SKU belongs to' })
  productId!: string;

  @Field(() => String)
  title!: string;

  @Field(() => Money)
  price!: Money;

  @Field(() => Boolean, { description: 'true for flash-sale SKUs: rate limited and ordered through the queued path' })
  flashSale!: boolean;
}

@ObjectType()
export class ProductEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Product)
  node!: Product;
}

@ObjectType()
export class ProductConnection {
  @Field(() => [ProductEdge])
  edges!: ProductEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@InputType()
export class CreateSkuInput {
  @Field(() => String)
  title!: string;

  @Field(() => Int, { description: 'price in minor units' })
  price!: number;

  @Field(() => String)
  currency!: string;

  @Field(() => Boolean, { nullable: true, defaultValue: false })
  flashSale?: boolean | null;
}

@InputType()
export class CreateProductInput {
  @Field(() => String)
  title!: string;

  @Field(() => String)
  description!: string;

  @Field(() => [CreateSkuInput])
  skus!: CreateSkuInput[];
}
