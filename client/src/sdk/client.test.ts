import { describe, expect, it } from 'vitest';
import { AddToCartDocument, CartDocument } from '../gql/graphql';
import { ShopRequestError, createShopClient } from './client';

interface Sent {
  url: string;
  headers: Record<string, string>;
  body: { query: string; operationName?: string; variables: Record<string, unknown> };
}

/** A fetch that records the request and answers with the given status and body. */
function fakeFetch(status: number, answer: unknown) {
  const sent: Sent[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    sent.push({ url, headers: init.headers as Record<string, string>, body: JSON.parse(String(init.body)) as Sent['body'] });
    return new Response(typeof answer === 'string' ? answer : JSON.stringify(answer), { status, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, sent };
}

describe('createShopClient().request', () => {
  it('posts the typed document with its variables and the bearer token, and returns data', async () => {
    const cart = { items: [], subtotal: { amount: 0, currency: 'CNY' } };
    const { fetch, sent } = fakeFetch(200, { data: { addToCart: cart } });
    const shop = createShopClient({ url: 'http://gateway/graphql', token: 't0k', fetch });
    const data = await shop.request(AddToCartDocument, { skuId: 'sku_1', qty: 2 });
    expect(data.addToCart).toEqual(cart);
    expect(sent[0]!.url).toBe('http://gateway/graphql');
    expect(sent[0]!.headers.authorization).toBe('Bearer t0k');
    expect(sent[0]!.body.operationName).toBe('AddToCart');
    expect(sent[0]!.body.query).toContain('mutation AddToCart');
    expect(sent[0]!.body.query).toContain('fragment CartFields on Cart');
    expect(sent[0]!.body.variables).toEqual({ skuId: 'sku_1', qty: 2 });
  });

  it('sends no authorization without a token, and {} when the operation has no variables', async () => {
    const { fetch, sent } = fakeFetch(200, { data: { cart: { items: [], subtotal: { amount: 0, currency: 'CNY' } } } });
    await createShopClient({ url: 'http://gateway/graphql', fetch }).request(CartDocument);
    expect(sent[0]!.headers.authorization).toBeUndefined();
    expect(sent[0]!.body.variables).toEqual({});
  });

  it('rejects with the GraphQL errors and their code', async () => {
    const { fetch } = fakeFetch(200, { data: null, errors: [{ message: 'Not enough stock', extensions: { code: 'STOCK_NOT_ENOUGH', shortages: [] } }] });
    const error = await createShopClient({ url: 'http://g/graphql', fetch })
      .request(AddToCartDocument, { skuId: 's', qty: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShopRequestError);
    expect((error as ShopRequestError).code).toBe('STOCK_NOT_ENOUGH');
    expect((error as ShopRequestError).status).toBe(200);
  });

  it('rejects on an answer without a GraphQL body', async () => {
    const { fetch } = fakeFetch(502, 'Bad gateway');
    const error = await createShopClient({ url: 'http://g/graphql', fetch })
      .request(CartDocument)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShopRequestError);
    expect((error as ShopRequestError).status).toBe(502);
    expect((error as ShopRequestError).code).toBeUndefined();
  });

  it('withToken gives a client with another token', async () => {
    const { fetch, sent } = fakeFetch(200, { data: { cart: { items: [], subtotal: { amount: 0, currency: 'CNY' } } } });
    const anonymous = createShopClient({ url: 'http://g/graphql', fetch });
    await anonymous.withToken('bob-token').request(CartDocument);
    expect(sent[0]!.headers.authorization).toBe('Bearer bob-token');
  });
});
