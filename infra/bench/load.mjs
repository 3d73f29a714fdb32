// The load: a bounded pool of workers, each taking the next order, previewing it, then placing it with a
// fresh clientReqId, all through the gateway; per-call latencies and outcomes are recorded.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { gatewayClient } from './gateway-client.mjs';
import { Latencies, Tally } from './stats.mjs';

const PREVIEW = `mutation Preview($input: PreviewOrderInput!) { previewOrder(input: $input) { previewId stockCheck payable { amount } } }`;
const PLACE = `mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { replayed order { id status } } }`;

/** Answers that are the system saying no on purpose; anything else is an error. */
const BUSINESS_CODES = new Set([
  'STOCK_NOT_ENOUGH',
  'PREVIEW_EXPIRED',
  'ORDER_ALREADY_EXISTS',
  'ORDER_STATE_INVALID',
  'FLASH_SALE_THROTTLED',
  'RISK_REJECTED',
  'BAD_USER_INPUT',
  'FORBIDDEN',
  'UNAUTHENTICATED',
]);

/**
 * @param {{ url: string, tokens: string[], hotSkuId: string, coldSkuIds: string[], qty: number, total: number,
 *           concurrency: number, deadline: number, runId: string, shouldStop: () => boolean, onProgress?: (s: object) => void }} plan
 */
export async function runLoad(plan) {
  const r = {
    placeLatency: new Latencies(),
    placedLatency: new Latencies(),
    previewLatency: new Latencies(),
    placed: 0,
    placedAsync: 0,
    replayed: 0,
    rejected: new Tally(),
    errors: new Tally(),
    insufficientPreviews: 0,
    done: 0,
    started: 0,
    wallMs: 0,
    capped: false,
  };
  let next = 0;
  // The load generator shares the machine's cores with the system: a pooled client (gateway-client.mjs), one connection per worker.
  const client = gatewayClient(plan.url, { connections: plan.concurrency });
  const began = performance.now();
  const cpuBefore = process.cpuUsage();

  /** Order i: the hot SKU, and on every other order one unit of a cold SKU too (a two-line order). */
  const linesOf = (i) => {
    const lines = [{ skuId: plan.hotSkuId, qty: plan.qty }];
    if (i % 2 === 1 && plan.coldSkuIds.length) lines.push({ skuId: plan.coldSkuIds[(i >> 1) % plan.coldSkuIds.length], qty: 1 });
    return lines;
  };

  const one = async (i) => {
    const token = plan.tokens[i % plan.tokens.length];
    const preview = await client.post(JSON.stringify({ query: PREVIEW, variables: { input: { items: linesOf(i) } } }), token, `${plan.runId}-o${i}-preview`);
    if (preview.transport || preview.errors || !preview.data?.previewOrder) {
      r.errors.add(`preview ${preview.transport ?? preview.code ?? 'EMPTY'}`);
      return;
    }
    r.previewLatency.add(preview.ms);
    if (preview.data.previewOrder.stockCheck === 'INSUFFICIENT') r.insufficientPreviews += 1;
    const clientReqId = `bench-${i}-${randomBytes(6).toString('hex')}`;
    const place = await client.post(
      JSON.stringify({ query: PLACE, variables: { input: { previewId: preview.data.previewOrder.previewId, clientReqId } } }),
      token,
      `${plan.runId}-o${i}-place`,
    );
    if (place.transport) {
      r.errors.add(`place ${place.transport}`);
      return;
    }
    const result = place.data?.placeOrder;
    if (result) {
      r.placeLatency.add(place.ms);
      if (result.replayed) r.replayed += 1;
      if (result.order.status === 'PENDING_PAYMENT' || result.order.status === 'CREATED') {
        // CREATED: accepted, its reservation finishes on the asynchronous path (checked after the run).
        r.placed += 1;
        if (result.order.status === 'CREATED') r.placedAsync += 1;
        r.placedLatency.add(place.ms);
      } else r.errors.add(`place status ${result.order.status}`);
      return;
    }
    if (BUSINESS_CODES.has(place.code)) {
      r.placeLatency.add(place.ms);
      r.rejected.add(place.code);
    } else {
      r.errors.add(`place ${place.code ?? `HTTP ${place.status}`}`);
    }
  };

  const worker = async () => {
    for (;;) {
      if (plan.shouldStop()) return;
      if (Date.now() > plan.deadline) {
        r.capped = next < plan.total;
        return;
      }
      const i = next++;
      if (i >= plan.total) return;
      r.started += 1;
      try {
        await one(i);
      } catch (error) {
        r.errors.add(`bench ${error?.message ?? error}`);
      }
      r.done += 1;
    }
  };

  let lastDone = 0;
  let lastAt = began;
  const timer = setInterval(() => {
    const now = performance.now();
    const rate = ((r.done - lastDone) * 1000) / (now - lastAt);
    lastDone = r.done;
    lastAt = now;
    plan.onProgress?.({
      elapsedS: (now - began) / 1000,
      done: r.done,
      total: plan.total,
      rate,
      placed: r.placed,
      rejected: r.rejected.total,
      errors: r.errors.total,
    });
  }, 1000);
  try {
    await Promise.all(Array.from({ length: Math.min(plan.concurrency, plan.total) }, worker));
  } finally {
    clearInterval(timer);
    await client.close();
  }
  r.wallMs = performance.now() - began;
  const cpu = process.cpuUsage(cpuBefore);
  // CPU this process (the load generator) spent, to tell its own cost apart from the system's.
  r.clientCpuMs = (cpu.user + cpu.system) / 1000;
  return r;
}
