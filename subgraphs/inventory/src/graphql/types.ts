import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import type { WarehouseStockRow } from '../domain/stock.js';

@ObjectType({ description: 'quantities of one SKU in one warehouse; onHand = available + reserved + sold' })
export class WarehouseStock {
  @Field(() => ID)
  warehouseId!: string;

  @Field(() => Int, { description: 'can still be reserved' })
  available!: number;

  @Field(() => Int, { description: 'held by orders waiting for payment' })
  reserved!: number;

  @Field(() => Int, { description: 'paid for, not yet restocked' })
  sold!: number;

  @Field(() => Int)
  onHand!: number;
}

/** The catalog's Sku, extended with the stock this subgraph owns. */
@Directive('@key(fields: "id")')
@ObjectType()
export class Sku {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { description: 'from inventory: quantity that can still be reserved, summed over warehouses' })
  available!: number;

  /** Stock rows the fields resolve from (not a GraphQL field). */
  rows!: WarehouseStockRow[];
}

@ObjectType()
export class Warehouse {
  @Field(() => ID)
  id!: string;

  @Field(() => Date)
  createdAt!: Date;
}
