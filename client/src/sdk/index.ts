/**
 * `@shop/client/sdk`: a typed client of the shop's public GraphQL API for Node, over the same
 * generated documents the storefront uses (src/operations/*.graphql -> src/gql/).
 *
 *   const shop = createShopClient({ url: 'http://127.0.0.1:4000/graphql', token });
 *   const { cart } = await shop.request(AddToCartDocument, { skuId, qty: 1 });
 *   for await (const { orderStatusChanged } of shop.subscribe(OrderStatusChangedDocument, { orderId })) ...
 */
export { createShopClient, ShopRequestError, type ShopClient, type ShopClientOptions } from './client.js';
export * from '../gql/graphql.js';
export { messageForError, messageForFailure, errorCode } from '../lib/error-messages.js';
export { attemptFor, CLIENT_REQ_ID_PATTERN, type CheckoutAttempt } from '../lib/client-req-id.js';
