import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer } from 'rabbitmq-client';
import { connectBroker, envInt, eventsExchange, logger, withTimeout } from '@shop/kit';
import { parseEvent } from '@shop/schema';

export const STATUS_CHANGED = 'order.status-changed';

/** What a subscriber hears: an order's status changed (version set), or "look again" after a broker reconnect. */
export interface OrderNotice {
  orderId: string;
  /** The order's version after the change; undefined when the gateway may have missed events. */
  version?: number;
  correlationId: string;
}
export type OrderListener = (notice: OrderNotice) => void;

const log = logger.child({ component: 'order-events' });

const bodyOf = (msg: AsyncMessage): unknown =>
  Buffer.isBuffer(msg.body) ? JSON.parse(msg.body.toString('utf8')) : typeof msg.body === 'string' ? JSON.parse(msg.body) : msg.body;

/**
 * The gateway process's feed of order status changes: ONE exclusive, auto-delete, server-named classic
 * queue per process, bound to the events exchange with `order.status-changed`, fanned out in memory to
 * the listeners of each order id. Every gateway process gets every event; gateways in the same process
 * (tests) share the queue through acquire/release. The queue is a live feed, not a durable inbox: when
 * the broker connection comes back, the queue is new, so every listener is told to look again.
 */
export class OrderEventHub {
  private readonly listeners = new Map<string, Set<OrderListener>>();
  private users = 0;
  /** acquire/release run one at a time. */
  private lifecycle: Promise<unknown> = Promise.resolve();
  private connection?: Connection;
  private consumer?: Consumer;

  /** Starts the queue and consumer for the first user; resolves once events published from now on reach it. */
  acquire(): Promise<void> {
    const step = this.lifecycle.then(async () => {
      this.users += 1;
      if (this.users === 1) await this.start();
    });
    this.lifecycle = step.catch(() => undefined);
    return step;
  }

  /** Closes the consumer and connection when the last user lets go (the broker then deletes the queue). */
  release(): Promise<void> {
    const step = this.lifecycle.then(async () => {
      if (this.users === 0) return;
      this.users -= 1;
      if (this.users === 0) await this.shutdown();
    });
    this.lifecycle = step.catch(() => undefined);
    return step;
  }

  /** Registers a listener for one order; returns its removal. */
  listen(orderId: string, listener: OrderListener): () => void {
    let set = this.listeners.get(orderId);
    if (!set) this.listeners.set(orderId, (set = new Set()));
    set.add(listener);
    return () => {
      const current = this.listeners.get(orderId);
      if (!current?.delete(listener)) return;
      if (current.size === 0) this.listeners.delete(orderId);
    };
  }

  /** Listeners registered, for one order or in all. */
  listenerCount(orderId?: string): number {
    if (orderId !== undefined) return this.listeners.get(orderId)?.size ?? 0;
    let total = 0;
    for (const set of this.listeners.values()) total += set.size;
    return total;
  }

  /** Hands a notice to the listeners of its order; a listener that throws does not stop the others. */
  dispatch(notice: OrderNotice): void {
    for (const listener of [...(this.listeners.get(notice.orderId) ?? [])]) {
      try {
        listener(notice);
      } catch (err) {
        log.error({ err, orderId: notice.orderId }, 'order listener failed');
      }
    }
  }

  /** The queue this process consumes (server-named; it changes after a reconnect). */
  get queue(): string | undefined {
    return this.consumer?.queue || undefined;
  }

  /** Consumers on this process's queue, as the broker counts them. */
  async consumerCount(): Promise<number> {
    if (!this.connection || !this.queue) return 0;
    const { consumerCount } = await this.connection.queueDeclare({ queue: this.queue, passive: true });
    return consumerCount;
  }

  /** Readiness: the broker connection is open and the consumer is running. */
  async check(): Promise<void> {
    if (!this.connection?.ready) throw new Error('RabbitMQ is not connected');
    if (!this.queue) throw new Error('the order status feed is not consuming');
  }

  private async start(): Promise<void> {
    const connection = connectBroker('gateway');
    const consumer = connection.createConsumer(
      {
        queue: '',
        queueOptions: { exclusive: true, autoDelete: true, durable: false, arguments: { 'x-queue-type': 'classic' } },
        exchanges: [{ exchange: eventsExchange(), type: 'topic', durable: true }],
        // An empty queue name binds the queue just declared on the consumer's channel (the server-named one).
        queueBindings: [{ exchange: eventsExchange(), queue: '', routingKey: STATUS_CHANGED }],
        qos: { prefetchCount: 200 },
      },
      (msg) => {
        this.receive(msg);
        return ConsumerStatus.ACK;
      },
    );
    consumer.on('error', (err) => log.warn({ err }, 'order status consumer error'));
    let readyOnce = false;
    const ready = new Promise<void>((resolve) =>
      consumer.on('ready', () => {
        log.info({ queue: consumer.queue, resync: readyOnce }, 'order status feed consuming');
        if (readyOnce) this.resyncAll();
        readyOnce = true;
        resolve();
      }),
    );
    this.connection = connection;
    this.consumer = consumer;
    try {
      await withTimeout(ready, envInt('WS_BROKER_READY_TIMEOUT_MS', 10_000), 'the order status feed did not start');
    } catch (err) {
      // The consumer keeps retrying in the background; subscriptions resync when it is ready.
      log.warn({ err }, 'order status feed not ready yet; subscriptions will miss events until RabbitMQ is reachable');
    }
  }

  private async shutdown(): Promise<void> {
    const { consumer, connection } = this;
    this.consumer = undefined;
    this.connection = undefined;
    await consumer?.close().catch((err: unknown) => log.warn({ err }, 'closing the order status consumer failed'));
    await connection?.close().catch((err: unknown) => log.warn({ err }, 'closing the broker connection failed'));
  }

  private receive(msg: AsyncMessage): void {
    let orderId: string, version: number, correlationId: string;
    try {
      const event = parseEvent(bodyOf(msg));
      if (event.type !== STATUS_CHANGED) return;
      const payload = event.payload as { orderId: string; version: number };
      ({ orderId, version } = payload);
      correlationId = event.correlationId;
    } catch (err) {
      log.error({ err, messageId: msg.messageId }, 'not a valid order.status-changed event: dropped');
      return;
    }
    this.dispatch({ orderId, version, correlationId });
  }

  private resyncAll(): void {
    for (const orderId of [...this.listeners.keys()]) this.dispatch({ orderId, correlationId: `resync-${Date.now()}` });
  }
}

/** The process's one hub. */
export const orderEvents = new OrderEventHub();
