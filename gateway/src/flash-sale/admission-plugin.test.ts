import { afterAll, describe, expect, it } from 'vitest';
import type { Request, Response } from 'express';
import { FlashAdmission, createRedis, newId } from '@shop/kit';
import { flashSaleEdge } from './admission-plugin.js';

/**
 * The edge's Express shortcut against the real Redis: what it answers for a previewOrder of one SKU
 * (a refusal body, or `next()` to let Apollo and the order subgraph decide).
 */
const redis = createRedis({ name: 'gateway-flash-edge-test' });
afterAll(() => redis.disconnect());

const PREVIEW = 'mutation P($input: PreviewOrderInput!) { previewOrder(input: $input) { previewId } }';

/** One click through the shortcut: the refusal body it sent, or 'next' when it let the click through. */
function click(edge: ReturnType<typeof flashSaleEdge>, skuId: string, userId = `usr_${newId('t')}`): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = { body: { query: PREVIEW, variables: { input: { items: [{ skuId, qty: 1 }] } } } } as unknown as Request;
    const res = {
      locals: { identity: { userId, roles: ['customer'] } },
      type: () => res,
      send: (body: string) => resolve(body),
    } as unknown as Response;
    edge.httpShortcut(req, res, (error?: unknown) => (error ? reject(error) : resolve('next')));
  });
}

/** Clicks until the shortcut answers something other than `next`, for at most `withinMs`. */
async function firstRefusal(edge: ReturnType<typeof flashSaleEdge>, skuId: string, withinMs: number): Promise<string> {
  const started = Date.now();
  for (;;) {
    const body = await click(edge, skuId);
    if (body !== 'next') return body;
    if (Date.now() - started > withinMs) throw new Error(`no refusal within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the flash-sale edge at the gateway', () => {
  it('lets a SKU Redis does not know through, and remembers that for a while instead of asking Redis every click', async () => {
    const skuId = newId('sku');
    const edge = flashSaleEdge(redis, { notFlashMemoMs: 300 });
    const before = Date.now();
    expect(await click(edge, skuId)).toBe('next');
    // The SKU becomes a sold-out flash SKU in Redis: the edge, remembering it as not one, still lets clicks through…
    const admission = new FlashAdmission(redis);
    await admission.publishAvailable(new Map([[skuId, 0]]), await admission.now());
    expect(await click(edge, skuId)).toBe('next');
    // …until the memo ends, then asks Redis again and answers sold out itself.
    const refused = await firstRefusal(edge, skuId, 5000);
    expect(JSON.parse(refused).errors[0].extensions).toMatchObject({ code: 'STOCK_NOT_ENOUGH', reason: 'SOLD_OUT', skuId });
    expect(Date.now() - before).toBeGreaterThanOrEqual(300);
  });

  it('asks Redis every click when the memo is off', async () => {
    const skuId = newId('sku');
    const edge = flashSaleEdge(redis, { notFlashMemoMs: 0 });
    expect(await click(edge, skuId)).toBe('next');
    const admission = new FlashAdmission(redis);
    await admission.publishAvailable(new Map([[skuId, 0]]), await admission.now());
    expect(JSON.parse(await click(edge, skuId)).errors[0].extensions).toMatchObject({ reason: 'SOLD_OUT' });
  });
});
