import { Arg, ID, Resolver, Root, Subscription } from 'type-graphql';
import { Order } from './types.js';

/** Declared so the composed supergraph shows the contract's subscription; the gateway serves it over graphql-ws. */
@Resolver()
export class OrderSubscriptionResolver {
  @Subscription(() => Order, {
    description: 'pushes the order each time its status changes; owner or admin only',
    subscribe: () => {
      throw new Error('subscriptions are served by the gateway');
    },
  })
  orderStatusChanged(@Root() order: Order, @Arg('orderId', () => ID) _orderId: string): Order {
    return order;
  }
}
