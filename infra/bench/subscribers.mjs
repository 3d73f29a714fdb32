// The subscribers: one graphql-ws client (one WebSocket, `ws` package) per subscriber, each with one
// orderStatusChanged subscription. They are opened by a bounded pool of workers; every message is
// timestamped on arrival (performance.now(), the clock the cancels are timed with).
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Tally } from './stats.mjs';

export const SUBSCRIPTION = `subscription Watch($orderId: ID!) { orderStatusChanged(orderId: $orderId) { status version } }`;
const SUBSCRIBE_TIMEOUT_MS = 30_000;

/** What went wrong, in a few words: graphql-ws hands over GraphQL errors, a CloseEvent or an Error. */
const describe = (error) => {
  if (Array.isArray(error)) return error[0]?.extensions?.code ?? error[0]?.message ?? 'GraphQL error';
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) return `socket closed ${error.code}${error.reason ? ` ${error.reason}` : ''}`;
  return error?.code ?? error?.message ?? String(error);
};

/**
 * @typedef {{ order: number, startedAt: number, connectedAt?: number, firstAt?: number, firstStatus?: string,
 *             canceledAt: number[], otherPushes: number, failed?: string, dropped?: string, dispose?: () => void }} Subscriber
 */
export class SubscriberPool {
  /** @type {Subscriber[]} */
  subscribers = [];
  subscribed = 0;
  failures = new Tally();
  drops = new Tally();
  canceledPushes = 0;
  otherPushes = 0;

  /** @param {{ wsUrl: string, orders: { orderId: string, token: string }[] }} options */
  constructor(options) {
    this.wsUrl = options.wsUrl;
    this.orders = options.orders;
  }

  /** Opens subscriber i (order i mod M); resolves when its first message, an error or the timeout comes. */
  #openOne(i) {
    const order = i % this.orders.length;
    const { orderId, token } = this.orders[order];
    /** @type {Subscriber} */
    const s = { order, startedAt: performance.now(), canceledAt: [], otherPushes: 0 };
    this.subscribers[i] = s;
    return new Promise((resolve) => {
      const client = createClient({
        url: this.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        lazy: true,
        retryAttempts: 0,
        on: { connected: () => (s.connectedAt ??= performance.now()) },
      });
      let timer;
      const settle = () => {
        clearTimeout(timer);
        resolve();
      };
      const fail = (reason) => {
        if (s.firstAt !== undefined || s.failed) return;
        s.failed = reason;
        this.failures.add(reason);
        s.dispose?.();
        settle();
      };
      const unsubscribe = client.subscribe(
        { query: SUBSCRIPTION, variables: { orderId } },
        {
          next: (result) => {
            const at = performance.now();
            const status = result.data?.orderStatusChanged?.status;
            if (s.firstAt === undefined) {
              if (!status) return fail(describe(result.errors ?? 'first message without an order'));
              s.firstAt = at;
              s.firstStatus = status;
              this.subscribed += 1;
              return settle();
            }
            if (status === 'CANCELED') {
              s.canceledAt.push(at);
              this.canceledPushes += 1;
            } else {
              s.otherPushes += 1;
              this.otherPushes += 1;
            }
          },
          error: (error) => {
            if (s.firstAt === undefined) return fail(describe(error));
            if (!s.dropped) this.drops.add((s.dropped = describe(error)));
          },
          complete: () => {
            if (s.firstAt === undefined) return fail('completed before the first message');
            if (!s.dropped && !this.closing) this.drops.add((s.dropped = 'completed by the gateway'));
          },
        },
      );
      s.dispose = () => {
        unsubscribe();
        // Disposing a client whose socket is still connecting rejects when that connect fails: nothing to do then.
        Promise.resolve(client.dispose()).catch(() => {});
      };
      timer = setTimeout(() => fail(`no first message within ${SUBSCRIBE_TIMEOUT_MS / 1000} s`), SUBSCRIBE_TIMEOUT_MS);
    });
  }

  /**
   * Opens `count` subscribers with at most `concurrency` connecting at once.
   * @param {{ count: number, concurrency: number, shouldStop: () => boolean, onProgress?: (p: object) => void }} plan
   */
  async open(plan) {
    let next = 0;
    const began = performance.now();
    let last = { done: 0, at: began };
    const timer = setInterval(() => {
      const now = performance.now();
      const done = this.subscribed + this.failures.total;
      plan.onProgress?.({
        elapsedS: (now - began) / 1000,
        subscribed: this.subscribed,
        failed: this.failures.total,
        rate: ((done - last.done) * 1000) / (now - last.at),
      });
      last = { done, at: now };
    }, 1000);
    const worker = async () => {
      for (let i = next++; i < plan.count && !plan.shouldStop(); i = next++) await this.#openOne(i);
    };
    try {
      await Promise.all(Array.from({ length: Math.min(plan.concurrency, plan.count) }, worker));
    } finally {
      clearInterval(timer);
    }
    return { wallMs: performance.now() - began };
  }

  /** Closes every client (complete, then the socket); later errors are not counted as drops. */
  closeAll() {
    this.closing = true;
    for (const s of this.subscribers) s?.dispose?.();
  }
}
