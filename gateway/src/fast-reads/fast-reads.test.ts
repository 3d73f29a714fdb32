import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from 'rabbitmq-client';
import { amqpUrl, eventsExchange, mintClientToken } from '@shop/kit';
import { admin, envelopeOf, errorCode, eventually, user, type GraphQLResponse } from '@shop/kit/testing';
import { createStockedSku } from '../../../tests/support/fixtures.js';
import { startGateway, startStack, type RunningGateway, type Stack } from '../subscriptions/test-support.js';

let stack: Stack;
let gw: RunningGateway;
const urls = () => ({ catalog: stack.catalog.url, inventory: stack.inventory.url });

beforeAll(async () => {
  stack = await startStack();
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.stop();
  await stack?.stop();
});

/** A POST to the gateway; `cached` when the answer came from the response cache (it carries an `age`). */
async function post(query: string, variables: Record<string, unknown> = {}, identity?: { userId: string; roles: string[] }) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (identity) headers.authorization = `Bearer ${await mintClientToken(identity)}`;
  const response = await fetch(gw.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { cached: response.headers.has('age'), body: (await response.json()) as GraphQLResponse<any> };
}

const SKU = `query Sku($id: ID!) { sku(id: $id) { id title price { amount } available } }`;

describe('gateway response cache', () => {
  it('answers a repeated anonymous catalog read from the cache, with the subgraphs hints', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-cache': 7 } });
    const first = await post(SKU, { id: skuId });
    expect(first.cached).toBe(false);
    expect(first.body.data.sku).toMatchObject({ id: skuId, available: 7 });
    expect(gw.gateway.fastReads.cache.holds(skuId)).toBe(true);
    const second = await post(SKU, { id: skuId });
    expect(second.cached).toBe(true);
    expect(second.body).toEqual(first.body);
  });

  it('never serves nor stores an identified request: personal data stays out of the shared cache', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-cache': 3 } });
    await post(SKU, { id: skuId });
    const alice = user();
    // A catalog read with a token is answered by the subgraphs, not by another client's cached answer.
    expect((await post(SKU, { id: skuId }, alice)).cached).toBe(false);

    const ADDRESSES = `query Addresses { addresses { id name } }`;
    const added = await post(
      `mutation($input: AddressInput!) { addAddress(input: $input) { id } }`,
      { input: { name: 'Alice Cache', phone: '+86 138 0000 0001', line1: '1 Cache Road', city: 'Shanghai', country: 'CN' } },
      alice,
    );
    expect(added.body.errors).toBeUndefined();
    const entries = gw.gateway.fastReads.cache.size;
    const hers = await post(ADDRESSES, {}, alice);
    expect(hers.body.data.addresses).toEqual([{ id: added.body.data.addAddress.id, name: 'Alice Cache' }]);
    // Her answer was not stored: the same query from someone else or from nobody never sees it.
    expect(gw.gateway.fastReads.cache.size).toBe(entries);
    const bob = await post(ADDRESSES, {}, user());
    expect(bob.cached).toBe(false);
    expect(bob.body.data.addresses).toEqual([]);
    const anonymous = await post(ADDRESSES);
    expect(anonymous.cached).toBe(false);
    expect(errorCode(anonymous.body)).toBe('UNAUTHENTICATED');
    expect(JSON.stringify(anonymous.body)).not.toContain('Alice Cache');
    expect(gw.gateway.fastReads.cache.size).toBe(entries);
  });

  it('does not store an anonymous answer with an error or with a field no subgraph hints (operator stock)', async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-cache': 2 } });
    const entries = gw.gateway.fastReads.cache.size;
    const refused = await post(`query($id: ID!) { sku(id: $id) { id stock { warehouseId available } } }`, { id: skuId });
    expect(errorCode(refused.body)).toBe('UNAUTHENTICATED');
    expect((await post(`query($id: ID!) { sku(id: $id) { id stock { warehouseId available } } }`, { id: skuId })).cached).toBe(false);
    expect(gw.gateway.fastReads.cache.size).toBe(entries);
  });

  it("drops cached answers of a SKU when inventory's event says its stock was taken, so the new stock shows", async () => {
    const skuId = await createStockedSku(urls(), { stock: { 'wh-cache': 5 } });
    expect((await post(SKU, { id: skuId })).body.data.sku.available).toBe(5);
    expect(gw.gateway.fastReads.cache.holds(skuId)).toBe(true);
    // The stock changes (an operator here; a reservation in production), then the event arrives.
    const set = await post(`mutation($s: ID!, $w: ID!) { setStock(skuId: $s, warehouseId: $w, onHand: 0) { id } }`, { s: skuId, w: 'wh-cache' }, admin());
    expect(set.body.errors).toBeUndefined();
    const connection = new Connection(amqpUrl());
    const publisher = connection.createPublisher({ confirm: true });
    try {
      const event = envelopeOf('inventory.stock-reserved', 'ord_cache', { orderId: 'ord_cache', allocations: [{ skuId, warehouseId: 'wh-cache', qty: 5 }] });
      await publisher.send({ exchange: eventsExchange(), routingKey: event.type, contentType: 'application/json' }, event);
    } finally {
      await publisher.close();
      await connection.close();
    }
    // Dropped by the event, not by age: an expired entry stays indexed until it is read again.
    await eventually(async () => (gw.gateway.fastReads.cache.holds(skuId) ? undefined : true));
    const fresh = await post(SKU, { id: skuId });
    expect(fresh.cached).toBe(false);
    expect(fresh.body.data.sku.available).toBe(0);
  });
});
