import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { isAdmin, isService, loader, parseId, requireUser, type SubgraphContext } from '@shop/kit';
import { addressesByIds, removeAddress, updateAddress } from '../domain/address-edits.js';
import { orderLoader } from './resolvers.js';
import { Address, AddressInput, Order } from './types.js';

const addressLoader = (ctx: SubgraphContext) => loader(ctx, 'addressById', (ids) => addressesByIds(ctx.em, ids));

@Resolver(() => Address)
export class AddressEditResolver {
  @Mutation(() => Address, { description: 'edits an address of the signed-in user: the edited copy gets a new id; orders keep the old one' })
  async updateAddress(@Ctx() ctx: SubgraphContext, @Arg('id', () => ID) id: string, @Arg('input', () => AddressInput) input: AddressInput): Promise<Address> {
    const identity = requireUser(ctx);
    return Object.assign(new Address(), await updateAddress(ctx.em, identity.userId, parseId('adr', id), input));
  }

  @Mutation(() => Boolean, { description: "removes an address from the signed-in user's list; orders placed with it keep it" })
  async removeAddress(@Ctx() ctx: SubgraphContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    const identity = requireUser(ctx);
    await removeAddress(ctx.em, identity.userId, parseId('adr', id));
    return true;
  }
}

@Resolver(() => Order)
export class OrderAddressResolver {
  @FieldResolver(() => Address, { nullable: true, description: 'where the order ships; its buyer and admins only' })
  async shippingAddress(@Root() order: Order, @Ctx() ctx: SubgraphContext): Promise<Address | null> {
    if (!(order.userId === ctx.identity?.userId || isAdmin(ctx.identity) || isService(ctx.identity))) return null;
    const row = await orderLoader(ctx).load(order.id);
    const address = row?.address_id ? await addressLoader(ctx).load(row.address_id) : null;
    if (!address) return null;
    const { userId: _owner, ...fields } = address;
    return Object.assign(new Address(), fields);
  }
}
