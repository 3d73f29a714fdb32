import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { badInput, fetchSkuFacts, loader, parseId, requireAdmin, type SubgraphContext } from '@shop/kit';
import { listWarehouses, parseOnHand, parseWarehouseId, setOnHand, stockBySkus, type WarehouseStockRow } from '../domain/stock.js';
import { FLASH_STOCK_BUCKETS } from '../domain/buckets.js';
import { Sku, Warehouse, WarehouseStock } from './types.js';

export const toSku = (id: string, rows: WarehouseStockRow[]): Sku =>
  Object.assign(new Sku(), { id, rows, available: rows.reduce((sum, r) => sum + r.available, 0) });

/** Stock of every SKU referenced in one request, loaded in one query. */
export const stockLoader = (ctx: SubgraphContext) => loader(ctx, 'stockBySku', (ids) => stockBySkus(ctx.em, ids));

@Resolver(() => Sku)
export class SkuStockResolver {
  @FieldResolver(() => [WarehouseStock], { description: 'per-warehouse quantities, for operators (admin only)' })
  stock(@Root() sku: Sku, @Ctx() ctx: SubgraphContext): WarehouseStock[] {
    requireAdmin(ctx);
    return sku.rows.map((r) =>
      Object.assign(new WarehouseStock(), {
        warehouseId: r.warehouseId,
        available: r.available,
        reserved: r.reserved,
        sold: r.sold,
        onHand: r.available + r.reserved + r.sold,
      }),
    );
  }

  @Mutation(() => Sku, { description: 'sets the on-hand quantity of a SKU in one warehouse; an unknown warehouseId creates that warehouse' })
  async setStock(
    @Ctx() ctx: SubgraphContext,
    @Arg('skuId', () => ID) skuId: string,
    @Arg('warehouseId', () => ID) warehouseId: string,
    @Arg('onHand', () => Int) onHand: number,
  ): Promise<Sku> {
    requireAdmin(ctx);
    const sku = parseId('sku', skuId, 'skuId');
    const warehouse = parseWarehouseId(warehouseId);
    const quantity = parseOnHand(onHand);
    const facts = await fetchSkuFacts([sku], ctx.correlationId);
    const fact = facts.get(sku);
    if (!fact) throw badInput(`skuId "${sku}" is not a SKU of the catalog`, { field: 'skuId' });
    // A flash-sale SKU's stock is spread over buckets so its reservations lock different rows (domain/buckets.ts).
    await setOnHand(ctx.em, sku, warehouse, quantity, fact.flashSale ? FLASH_STOCK_BUCKETS : 1);
    return toSku(sku, (await stockBySkus(ctx.em, [sku])).get(sku) ?? []);
  }
}

@Resolver(() => Warehouse)
export class WarehouseResolver {
  @Query(() => [Warehouse], { description: 'every warehouse (admin only)' })
  async warehouses(@Ctx() ctx: SubgraphContext): Promise<Warehouse[]> {
    requireAdmin(ctx);
    return (await listWarehouses(ctx.em)).map((w) => Object.assign(new Warehouse(), w));
  }
}
