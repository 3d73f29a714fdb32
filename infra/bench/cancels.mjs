// The events: cancelOrder through the gateway, one order after the other at a fixed rate (open loop:
// a slow answer does not delay the next cancel). Each cancel is timestamped just before it is sent.
import { performance } from 'node:perf_hooks';
import { gql } from './gateway-client.mjs';
import { Latencies, Tally } from './stats.mjs';

const CANCEL = `mutation Cancel($orderId: ID!) { cancelOrder(orderId: $orderId) { id status version } }`;

/**
 * @param {{ url: string, orders: { orderId: string, token: string }[], rate: number, runId: string, shouldStop: () => boolean,
 *           counters?: { sent: number, answered: number } }} plan
 * @returns {Promise<{ sends: ({ sentAt: number, ok: boolean } | undefined)[], latency: Latencies, errors: Tally, firstSentAt: number, lastSentAt: number, wallMs: number, maxInFlight: number }>}
 */
export async function driveCancels(plan) {
  const r = {
    sends: new Array(plan.orders.length),
    latency: new Latencies(),
    errors: new Tally(),
    firstSentAt: NaN,
    lastSentAt: NaN,
    wallMs: 0,
    maxInFlight: 0,
  };
  const began = performance.now();
  const intervalMs = 1000 / plan.rate;
  const answers = [];
  let inFlight = 0;
  for (let k = 0; k < plan.orders.length; k += 1) {
    const wait = began + k * intervalMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (plan.shouldStop()) break;
    const { orderId, token } = plan.orders[k];
    const send = { sentAt: performance.now(), ok: false };
    r.sends[k] = send;
    if (k === 0) r.firstSentAt = send.sentAt;
    r.lastSentAt = send.sentAt;
    inFlight += 1;
    if (plan.counters) plan.counters.sent += 1;
    r.maxInFlight = Math.max(r.maxInFlight, inFlight);
    answers.push(
      gql(plan.url, CANCEL, { orderId }, token, `${plan.runId}-cancel${k}`).then((res) => {
        inFlight -= 1;
        if (plan.counters) plan.counters.answered += 1;
        const status = res.data?.cancelOrder?.status;
        if (status === 'CANCELED') {
          send.ok = true;
          r.latency.add(res.ms);
        } else {
          r.errors.add(res.transport ?? res.code ?? `status ${status}`);
        }
      }),
    );
  }
  await Promise.all(answers);
  r.wallMs = performance.now() - began;
  return r;
}
