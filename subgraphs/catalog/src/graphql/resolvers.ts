import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Money, loader, pageSize, parseId, requireAdmin, toConnection, type SubgraphContext } from '@shop/kit';
import { createProduct, productsByIds, skusByIds, skusByProducts, updateSku } from '../domain/catalog-service.js';
import { countProducts, listCategories, listProducts, productKey } from '../domain/product-listing.js';
import type { SkuRow } from '../domain/entities.js';
import { category as parseCategory, validateNewProduct, validateSkuChange } from '../domain/validation.js';
import { Category, CreateProductInput, Product, ProductConnection, ProductSort, Sku, UpdateSkuInput } from './types.js';

export const toProduct = (row: { id: string; title: string; description: string; images?: string[] | null; category?: string | null }): Product =>
  Object.assign(new Product(), { id: row.id, title: row.title, description: row.description, images: row.images ?? [], category: row.category ?? null });

export const toSku = (row: SkuRow): Sku =>
  Object.assign(new Sku(), {
    id: row.id,
    productId: row.productId,
    title: row.title,
    price: Money.of(row.priceAmount, row.currency),
    flashSale: row.flashSale,
    flashSaleStartsAt: row.flashSaleStartsAt ? new Date(row.flashSaleStartsAt) : null,
    revision: row.revision,
  });

export const skuLoader = (ctx: SubgraphContext) => loader(ctx, 'sku', (ids) => skusByIds(ctx.em, ids));
export const productLoader = (ctx: SubgraphContext) => loader(ctx, 'product', (ids) => productsByIds(ctx.em, ids));
const skusOfProductLoader = (ctx: SubgraphContext) => loader(ctx, 'skusOfProduct', (ids) => skusByProducts(ctx.em, ids));

@Resolver(() => Product)
export class ProductResolver {
  @Query(() => ProductConnection)
  async products(
    @Ctx() ctx: SubgraphContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('search', () => String, { nullable: true }) search?: string,
    @Arg('category', () => String, { nullable: true }) category?: string,
    @Arg('sort', () => ProductSort, { nullable: true, defaultValue: ProductSort.FEATURED }) sort?: ProductSort | null,
  ): Promise<ProductConnection> {
    const size = pageSize(first);
    const filter = { search: search ?? undefined, category: parseCategory(category) ?? undefined };
    const rows = await listProducts(ctx.em, sort ?? ProductSort.FEATURED, filter, size + 1, after ?? undefined);
    const page = toConnection(rows, size, productKey);
    return Object.assign(new ProductConnection(), {
      edges: page.edges.map((e) => ({ cursor: e.cursor, node: toProduct(e.node) })),
      pageInfo: page.pageInfo,
      count: () => countProducts(ctx.em, filter),
    });
  }

  @Query(() => [Category], { description: 'the categories that have products, by slug' })
  async categories(@Ctx() ctx: SubgraphContext): Promise<Category[]> {
    return (await listCategories(ctx.em)).map((c) => Object.assign(new Category(), c));
  }

  @Query(() => Product, { nullable: true })
  async product(@Ctx() ctx: SubgraphContext, @Arg('id', () => ID) id: string): Promise<Product | null> {
    const row = await productLoader(ctx).load(parseId('prd', id));
    return row ? toProduct(row) : null;
  }

  @FieldResolver(() => [Sku])
  async skus(@Root() product: Product, @Ctx() ctx: SubgraphContext): Promise<Sku[]> {
    return ((await skusOfProductLoader(ctx).load(product.id)) ?? []).map(toSku);
  }

  @Mutation(() => Product, { description: 'admin only' })
  async createProduct(@Ctx() ctx: SubgraphContext, @Arg('input', () => CreateProductInput) input: CreateProductInput): Promise<Product> {
    requireAdmin(ctx);
    return toProduct(await createProduct(ctx.em, validateNewProduct(input), ctx.correlationId));
  }
}

@Resolver(() => Sku)
export class SkuResolver {
  @Query(() => Sku, { nullable: true })
  async sku(@Ctx() ctx: SubgraphContext, @Arg('id', () => ID) id: string): Promise<Sku | null> {
    const row = await skuLoader(ctx).load(parseId('sku', id));
    return row ? toSku(row) : null;
  }

  @Mutation(() => Sku, {
    description: "admin only: changes a SKU's price, currency, title or flash-sale start; orders previewed at the old price must preview again",
  })
  async updateSku(@Ctx() ctx: SubgraphContext, @Arg('input', () => UpdateSkuInput) input: UpdateSkuInput): Promise<Sku> {
    requireAdmin(ctx);
    const id = parseId('sku', input.id, 'id');
    return toSku(await updateSku(ctx.em, id, validateSkuChange(input, input.flashSaleStartsAt !== undefined), ctx.correlationId));
  }

  @FieldResolver(() => Product)
  async product(@Root() sku: Sku, @Ctx() ctx: SubgraphContext): Promise<Product> {
    const row = await productLoader(ctx).load(sku.productId);
    if (!row) throw new Error(`sku ${sku.id} points to a missing product ${sku.productId}`);
    return toProduct(row);
  }
}
