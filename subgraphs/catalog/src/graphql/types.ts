import { Directive, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
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

  @Field(() => [String], { description: 'image paths (served with the storefront) or https URLs; the first is the cover' })
  images!: string[];

  @Field(() => String, { nullable: true, description: 'category slug, e.g. "tea"' })
  category!: string | null;
}

export enum ProductSort {
  FEATURED = 'FEATURED',
  NEWEST = 'NEWEST',
  PRICE_LOW_HIGH = 'PRICE_LOW_HIGH',
  PRICE_HIGH_LOW = 'PRICE_HIGH_LOW',
}
registerEnumType(ProductSort, {
  name: 'ProductSort',
  description: 'FEATURED: products with images first, then newest; prices compare the cheapest SKU',
});

@ObjectType()
export class Category {
  @Field(() => String)
  slug!: string;

  @Field(() => Int)
  productCount!: number;
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

  @Field(() => Date, {
    nullable: true,
    description: 'flash-sale SKUs: when the sale opens (clicks before it are answered FLASH_SALE_THROTTLED, reason NOT_STARTED); null: open',
  })
  flashSaleStartsAt?: Date | null;
  @Field(() => Int, { description: 'grows by one with every change of this SKU (price, title, flash-sale start); copies keep the newest' })
  revision!: number;
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

  /** Counts lazily: only a query that selects totalCount pays for it. */
  count!: () => Promise<number>;

  @Field(() => Int, { description: 'products matching the search and category, on every page' })
  totalCount(): Promise<number> {
    return this.count();
  }
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

  @Field(() => Date, { nullable: true, description: 'flash-sale SKUs only: when the sale opens' })
  flashSaleStartsAt?: Date | null;
}

@InputType()
export class CreateProductInput {
  @Field(() => String)
  title!: string;

  @Field(() => String)
  description!: string;

  @Field(() => [CreateSkuInput])
  skus!: CreateSkuInput[];

  @Field(() => [String], { nullable: true })
  images?: string[] | null;

  @Field(() => String, { nullable: true })
  category?: string | null;
}

@InputType({ description: 'the facts of a SKU to change; absent fields stay as they are' })
export class UpdateSkuInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => Int, { nullable: true, description: 'price in minor units' })
  price?: number | null;

  @Field(() => String, { nullable: true })
  currency?: string | null;

  @Field(() => Date, { nullable: true, description: 'flash-sale SKUs only: when the sale opens; null clears it (open once stocked)' })
  flashSaleStartsAt?: Date | null;
}
