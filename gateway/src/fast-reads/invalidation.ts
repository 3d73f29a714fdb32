import { ConsumerStatus, type AsyncMessage, type Connection, type Consumer } from 'rabbitmq-client';
import { connectBroker, eventsExchange, logger } from '@shop/kit';
import { parseEvent } from '@shop/schema';
import { rootFieldTag, type ResponseCache } from './response-cache.js';

const log = logger.child({ component: 'response-cache-invalidation' });

/**
 * The root fields that list products (pages, searches, categories): a product created or changed
 * (its title, category, ...) can enter, leave or move in any of them, whatever ids a page held.
 */
const LISTINGS = ['products', 'categories'].map(rootFieldTag);

/** The events that change what an anonymous catalog read answers, and the cache tags (response-cache.ts) each one drops. */
const CHANGES: Record<string, (payload: Record<string, unknown>) => string[]> = {
  // A SKU's facts (price, title, flash sale): the answers holding it or its product (a product's page lists its SKUs).
  'catalog.sku-changed': (p) => [p.skuId as string, p.productId as string],
  // A product created or changed: the answers holding it or its SKUs, and every listing.
  'catalog.product-changed': (p) => [p.productId as string, ...(p.skuIds as string[]), ...LISTINGS],
  // Stock taken: `available` of these SKUs went down (a sell-out among them).
  'inventory.stock-reserved': (p) => ((p.allocations ?? []) as { skuId: string }[]).map((a) => a.skuId),
  // A refused reservation: these SKUs have less than was asked, maybe none.
  'inventory.stock-rejected': (p) => ((p.shortages ?? []) as { skuId: string }[]).map((s) => s.skuId),
};

const bodyOf = (msg: AsyncMessage): unknown =>
  Buffer.isBuffer(msg.body) ? JSON.parse(msg.body.toString('utf8')) : typeof msg.body === 'string' ? JSON.parse(msg.body) : msg.body;

/**
 * Keeps a gateway's response cache true to the subgraphs: ONE exclusive, auto-delete, server-named
 * queue per gateway process (like the order status feed, subscriptions/order-events.ts), bound to the
 * events exchange for the events of CHANGES; each event drops the cached answers holding its SKUs or
 * products, and a product's change every cached listing.
 * Every gateway replica hears every event. When the consumer (re)starts, events may have been missed,
 * so the whole cache is dropped. Stock changes without an event (an operator's setStock, a release)
 * show when their short cache hint (`Sku` 5 s at inventory) runs out.
 */
export class CacheInvalidation {
  private connection?: Connection;
  private consumer?: Consumer;

  constructor(private readonly cache: ResponseCache) {}

  start(): void {
    const connection = connectBroker('gateway-cache');
    const consumer = connection.createConsumer(
      {
        queue: '',
        queueOptions: { exclusive: true, autoDelete: true, durable: false, arguments: { 'x-queue-type': 'classic' } },
        exchanges: [{ exchange: eventsExchange(), type: 'topic', durable: true }],
        queueBindings: Object.keys(CHANGES).map((routingKey) => ({ exchange: eventsExchange(), queue: '', routingKey })),
        qos: { prefetchCount: 500 },
      },
      (msg) => {
        this.receive(msg);
        return ConsumerStatus.ACK;
      },
    );
    consumer.on('error', (err) => log.warn({ err }, 'cache invalidation consumer error'));
    consumer.on('ready', () => {
      this.cache.clear();
      log.info({ queue: consumer.queue }, 'cache invalidation consuming; cache cleared');
    });
    this.connection = connection;
    this.consumer = consumer;
  }

  /** Readiness of the feed: without it cached stock could be stale for up to its hint. */
  get consuming(): boolean {
    return Boolean(this.connection?.ready && this.consumer?.queue);
  }

  async stop(): Promise<void> {
    const { consumer, connection } = this;
    this.consumer = undefined;
    this.connection = undefined;
    await consumer?.close().catch((err: unknown) => log.warn({ err }, 'closing the cache invalidation consumer failed'));
    await connection?.close().catch((err: unknown) => log.warn({ err }, 'closing the broker connection failed'));
  }

  private receive(msg: AsyncMessage): void {
    try {
      const event = parseEvent(bodyOf(msg));
      const tags = CHANGES[event.type]?.(event.payload as Record<string, unknown>) ?? [];
      const dropped = this.cache.invalidate(tags);
      log.debug({ type: event.type, tags, dropped }, 'cached answers dropped');
    } catch (err) {
      // An event we cannot read could be one that changed stock: drop everything rather than serve stale stock.
      this.cache.clear();
      log.error({ err, messageId: msg.messageId }, 'unreadable event on the cache invalidation feed: cache cleared');
    }
  }
}
