import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { Money, badInput, defaultCurrency, fetchSkuFacts, parseId, requireUser, type SkuFacts, type SubgraphContext } from '@shop/kit';
import { addToLine, cartLines, parseQty, removeLine, setLineQty } from '../domain/cart-service.js';
import { subtotal } from '../domain/pricing.js';
import { Cart, CartItem, Sku } from './types.js';

/** The user's cart at current catalog prices, in one batched catalog call; SKUs gone from the catalog are left out. */
async function loadCart(ctx: SubgraphContext, userId: string): Promise<Cart> {
  const lines = await cartLines(ctx.em, userId);
  const facts = await fetchSkuFacts(
    lines.map((l) => l.skuId),
    ctx.correlationId,
  );
  const known = lines.flatMap((l) => {
    const sku = facts.get(l.skuId);
    return sku ? [{ ...l, sku }] : [];
  });
  const total = subtotal(
    known.map((l) => ({ unitPrice: l.sku.price, qty: l.qty })),
    defaultCurrency(),
  );
  return Object.assign(new Cart(), {
    items: known.map((l) => Object.assign(new CartItem(), { sku: Object.assign(new Sku(), { id: l.skuId }), qty: l.qty })),
    subtotal: Money.of(total.amount, total.currency),
  });
}

async function catalogSku(ctx: SubgraphContext, skuId: string): Promise<SkuFacts> {
  const sku = (await fetchSkuFacts([skuId], ctx.correlationId)).get(skuId);
  if (!sku) throw badInput(`skuId "${skuId}" is not a SKU of the catalog`, { field: 'skuId' });
  return sku;
}

@Resolver(() => Cart)
export class CartResolver {
  @Query(() => Cart, { description: "the signed-in user's cart" })
  async cart(@Ctx() ctx: SubgraphContext): Promise<Cart> {
    const { userId } = requireUser(ctx);
    return loadCart(ctx, userId);
  }

  @Mutation(() => Cart, { description: 'adds qty of a SKU to the cart (a line holds at most 99; a cart at most 50 lines)' })
  async addToCart(@Ctx() ctx: SubgraphContext, @Arg('skuId', () => ID) skuId: string, @Arg('qty', () => Int) qty: number): Promise<Cart> {
    const { userId } = requireUser(ctx);
    const id = parseId('sku', skuId, 'skuId');
    const amount = parseQty(qty, 1);
    const sku = await catalogSku(ctx, id);
    await addToLine(ctx.em, userId, id, sku.price.currency, amount);
    return loadCart(ctx, userId);
  }

  @Mutation(() => Cart, { description: 'sets the quantity of a SKU in the cart; qty 0 removes the line' })
  async setCartItemQty(@Ctx() ctx: SubgraphContext, @Arg('skuId', () => ID) skuId: string, @Arg('qty', () => Int) qty: number): Promise<Cart> {
    const { userId } = requireUser(ctx);
    const id = parseId('sku', skuId, 'skuId');
    const amount = parseQty(qty, 0);
    if (amount === 0) {
      await removeLine(ctx.em, userId, id);
    } else {
      const sku = await catalogSku(ctx, id);
      await setLineQty(ctx.em, userId, id, sku.price.currency, amount);
    }
    return loadCart(ctx, userId);
  }
}
