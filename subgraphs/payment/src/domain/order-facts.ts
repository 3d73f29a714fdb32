import { fetchEntities, logger } from '@shop/kit';

/** What payment needs to know of an order; the order subgraph is authoritative. */
export interface OrderFacts {
  id: string;
  userId: string;
  status: string;
  payable: { amount: number; currency: string };
  /** The payment deadline: no payment starts after it. */
  expireAt: string;
}

export class OrderServiceUnavailableError extends Error {}

/**
 * The documented synchronous read of payOrder: the order's owner, status and payable amount,
 * through the order subgraph's `_entities` with payment's service identity (timeout 3 s).
 */
export async function fetchOrderFacts(orderId: string, correlationId: string): Promise<OrderFacts | undefined> {
  try {
    const found = await fetchEntities<OrderFacts>('payment', 'order', 'Order', [orderId], 'userId status payable { amount currency } expireAt', correlationId);
    return found.get(orderId);
  } catch (error) {
    logger.warn({ err: error, orderId, correlationId }, 'order lookup failed');
    throw new OrderServiceUnavailableError('The order service did not answer: try again in a moment');
  }
}
