import { afterAll, describe, expect, it } from 'vitest';
import { FlashAdmission, admissionRefusal } from './flash-admission.js';
import { createRedis } from './redis.js';
import { newId } from './ids.js';

describe('the shared flash-sale admission', () => {
  const redis = createRedis({ name: 'kit-flash-test' });
  const other = createRedis({ name: 'kit-flash-test-2' });
  afterAll(() => {
    redis.disconnect();
    other.disconnect();
  });
  const settings = { rate: 1, burst: 5, queue: 100, ticketTtlMs: 30_000 };
  const sku = () => newId('sku');
  const buyers = (n: number) => Array.from({ length: n }, (_, i) => `usr_buyer_${i}_${Math.random().toString(36).slice(2)}`);

  it('knows nothing of a SKU inventory has not published', async () => {
    const admission = new FlashAdmission(redis, settings);
    expect(await admission.admit(sku(), 'usr_a')).toEqual({ kind: 'UNKNOWN' });
  });

  it('admits the burst across two connections (two replicas) and throttles the rest with a retry hint', async () => {
    const skuId = sku();
    const a = new FlashAdmission(redis, settings);
    const b = new FlashAdmission(other, settings);
    await a.publishAvailable(new Map([[skuId, 1000]]), await a.now());
    const answers = await Promise.all(buyers(20).map((buyer, i) => (i % 2 ? a : b).admit(skuId, buyer)));
    expect(answers.filter((x) => x.kind === 'ADMITTED')).toHaveLength(5);
    const refused = answers.filter((x) => x.kind === 'THROTTLED');
    expect(refused).toHaveLength(15);
    for (const r of refused) expect(r).toMatchObject({ reason: 'RATE', retryAfterMs: expect.any(Number) });
    expect(admissionRefusal(skuId, refused[0]!)!.extensions).toMatchObject({ code: 'FLASH_SALE_THROTTLED', reason: 'RATE', skuId });
  });

  it('refuses clicks before the sale starts, with the time left as the retry hint', async () => {
    const skuId = sku();
    const admission = new FlashAdmission(redis, settings);
    await admission.register(skuId, new Date(Date.now() + 60_000));
    await admission.publishAvailable(new Map([[skuId, 10]]), await admission.now());
    const early = await admission.admit(skuId, 'usr_early');
    expect(early).toMatchObject({ kind: 'NOT_STARTED' });
    expect(early.kind === 'NOT_STARTED' && early.retryAfterMs).toBeGreaterThan(50_000);
    expect(admissionRefusal(skuId, early)!.extensions).toMatchObject({ code: 'FLASH_SALE_THROTTLED', reason: 'NOT_STARTED' });
    await admission.register(skuId, new Date(Date.now() - 1000));
    expect(await admission.admit(skuId, 'usr_early')).toMatchObject({ kind: 'ADMITTED' });
    expect(await admission.flashSkus()).toContain(skuId);
  });

  it('bounds the queue of admitted buyers', async () => {
    const skuId = sku();
    const admission = new FlashAdmission(redis, { ...settings, burst: 50, rate: 1000, queue: 3 });
    await admission.publishAvailable(new Map([[skuId, 1000]]), await admission.now());
    const answers = await Promise.all(buyers(6).map((buyer) => admission.admit(skuId, buyer)));
    expect(answers.filter((x) => x.kind === 'ADMITTED')).toHaveLength(3);
    expect(answers.filter((x) => x.kind === 'THROTTLED' && x.reason === 'QUEUE_FULL')).toHaveLength(3);
  });

  it('admits no more buyers than units left, answers sold out, and resumes when a unit comes back', async () => {
    const skuId = sku();
    const admission = new FlashAdmission(redis, { ...settings, burst: 100, rate: 1000 });
    await admission.publishAvailable(new Map([[skuId, 3]]), await admission.now());
    const people = buyers(10);
    const answers = await Promise.all(people.map((buyer) => admission.admit(skuId, buyer)));
    const admitted = people.filter((_, i) => answers[i]!.kind === 'ADMITTED');
    expect(admitted).toHaveLength(3);
    expect(answers.filter((x) => x.kind === 'SOLD_OUT')).toHaveLength(7);
    expect(admissionRefusal(skuId, { kind: 'SOLD_OUT' })!.extensions).toMatchObject({ code: 'STOCK_NOT_ENOUGH', reason: 'SOLD_OUT' });

    // Two orders hold their unit in PostgreSQL; the third buyer's order is canceled (out of stock elsewhere).
    for (const [i, buyer] of admitted.entries()) expect(await admission.claim(skuId, buyer, `ord_${i}`)).toEqual({ kind: 'CLAIMED' });
    await admission.held(skuId, admitted[0]!, 'ord_0', 60_000);
    await admission.held(skuId, admitted[1]!, 'ord_1', 60_000);
    await admission.released(skuId, admitted[2]!, 'ord_2');
    expect(await admission.state(skuId)).toEqual({ available: 3, pending: 0, held: 2 });
    // Inventory has not reported since: one unit is left to promise, the canceled buyer may try again.
    expect(await admission.admit(skuId, admitted[2]!)).toMatchObject({ kind: 'ADMITTED' });
    expect(
      await admission.admit(
        skuId,
        people.find((p) => !admitted.includes(p))!,
      ),
    ).toEqual({ kind: 'SOLD_OUT' });
    // A report whose read does not see the reservations yet leaves them counted as held.
    await admission.publishAvailable(new Map([[skuId, 3]]), await admission.now());
    expect(await admission.state(skuId)).toMatchObject({ available: 3, held: 2 });
    expect(await admission.admit(skuId, 'usr_early')).toEqual({ kind: 'SOLD_OUT' });
    // One that sees them: available 1, the holds are in it.
    await admission.publishAvailable(new Map([[skuId, 1]]), await admission.now(), new Map([[skuId, ['ord_0', 'ord_1']]]));
    expect(await admission.state(skuId)).toEqual({ available: 1, pending: 1, held: 0 });
    // Its order takes the last unit: sold out, in Redis and in the next report.
    await admission.claim(skuId, admitted[2]!, 'ord_3');
    await admission.held(skuId, admitted[2]!, 'ord_3', 60_000);
    expect(await admission.admit(skuId, 'usr_late')).toEqual({ kind: 'SOLD_OUT' });
    await admission.publishAvailable(new Map([[skuId, 0]]), await admission.now(), new Map([[skuId, ['ord_0', 'ord_1', 'ord_3']]]));
    expect(await admission.state(skuId)).toEqual({ available: 0, pending: 0, held: 0 });
    // That order times out and returns its unit: the next report admits again.
    await admission.released(skuId, admitted[2]!, 'ord_3');
    expect(await admission.admit(skuId, 'usr_late')).toEqual({ kind: 'SOLD_OUT' });
    await admission.publishAvailable(new Map([[skuId, 1]]), await admission.now());
    expect(await admission.admit(skuId, 'usr_late')).toMatchObject({ kind: 'ADMITTED' });
  });

  it('gives a buyer one live attempt: the same admission again, then their order, never a second one', async () => {
    const skuId = sku();
    const admission = new FlashAdmission(redis, { ...settings, burst: 100, rate: 1000 });
    await admission.publishAvailable(new Map([[skuId, 10]]), await admission.now());
    const first = await admission.admit(skuId, 'usr_once');
    expect(first).toEqual({ kind: 'ADMITTED', position: 1 });
    expect(await admission.admit(skuId, 'usr_once')).toEqual(first);
    expect(await admission.state(skuId)).toMatchObject({ pending: 1 });
    expect(await admission.claim(skuId, 'usr_never', 'ord_x')).toEqual({ kind: 'NOT_ADMITTED' });
    expect(await admission.claim(skuId, 'usr_once', 'ord_1')).toEqual({ kind: 'CLAIMED' });
    expect(await admission.claim(skuId, 'usr_once', 'ord_1')).toEqual({ kind: 'CLAIMED' });
    expect(await admission.claim(skuId, 'usr_once', 'ord_2')).toEqual({ kind: 'ALREADY', orderId: 'ord_1' });
    expect(await admission.admit(skuId, 'usr_once')).toEqual({ kind: 'ALREADY', orderId: 'ord_1' });
    expect(admissionRefusal(skuId, { kind: 'ALREADY', orderId: 'ord_1' })!.extensions).toMatchObject({ code: 'ORDER_ALREADY_EXISTS', orderId: 'ord_1' });
    // A failed preview gives back only an admission no order was placed for.
    await admission.giveBack(skuId, 'usr_once');
    expect(await admission.admit(skuId, 'usr_once')).toEqual({ kind: 'ALREADY', orderId: 'ord_1' });
    expect(await admission.admit(skuId, 'usr_other')).toMatchObject({ kind: 'ADMITTED' });
    await admission.giveBack(skuId, 'usr_other');
    expect(await admission.state(skuId)).toMatchObject({ pending: 1 });
    // A placement that failed before its order committed gives the admission back.
    await admission.unclaim(skuId, 'usr_once', 'ord_1');
    expect(await admission.claim(skuId, 'usr_once', 'ord_3')).toEqual({ kind: 'CLAIMED' });
  });

  it('counts a unit once when the stock report sees its reservation before the order subgraph says held', async () => {
    const skuId = sku();
    const admission = new FlashAdmission(redis, { ...settings, burst: 100, rate: 1000 });
    await admission.publishAvailable(new Map([[skuId, 2]]), await admission.now());
    const [first, second] = buyers(2);
    expect(await admission.admit(skuId, first!)).toMatchObject({ kind: 'ADMITTED' });
    const orderId = newId('ord');
    expect(await admission.claim(skuId, first!, orderId)).toEqual({ kind: 'CLAIMED' });
    // The report's read already counts the reservation (2 → 1): the buyer is no longer pending.
    await admission.publishAvailable(new Map([[skuId, 1]]), await admission.now(), new Map([[skuId, [orderId]]]));
    expect(await admission.state(skuId)).toEqual({ available: 1, pending: 0, held: 0 });
    // The order subgraph's word comes after: the unit is not counted a second time, one is left to sell.
    await admission.held(skuId, first!, orderId, 60_000);
    expect(await admission.state(skuId)).toEqual({ available: 1, pending: 0, held: 0 });
    expect(await admission.admit(skuId, second!)).toMatchObject({ kind: 'ADMITTED' });
    expect(await admission.admit(skuId, buyers(1)[0]!)).toEqual({ kind: 'SOLD_OUT' });
    // The buyer keeps one live attempt: their order.
    expect(await admission.admit(skuId, first!)).toEqual({ kind: 'ALREADY', orderId });
  });
});
