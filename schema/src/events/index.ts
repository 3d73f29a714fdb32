import { z } from 'zod';

/**
 * The domain events carried between subgraphs over RabbitMQ: one versioned, typed envelope, and a
 * zod schema per event type that consumers validate before acting. A change of contract is made
 * here, in one place, with a new version when it is not backwards compatible.
 */
export const envelopeSchema = z.object({
  eventId: z.string().min(1).max(100),
  type: z.string().min(1).max(100),
  version: z.number().int().positive(),
  occurredAt: z.string().datetime(),
  aggregateId: z.string().min(1).max(100),
  correlationId: z.string().min(1).max(100),
  payload: z.unknown(),
  /** W3C trace context (traceparent, tracestate) of the transaction that emitted the event, when tracing is on. */
  trace: z.record(z.string(), z.string().max(512)).optional(),
});

const id = z.string().min(1).max(100);
const qty = z.number().int().positive();
const money = z.object({ amount: z.number().int().nonnegative(), currency: z.string().length(3) });
const line = z.object({ skuId: id, qty });
const allocation = z.object({ skuId: id, warehouseId: id, qty });

export const OrderStatus = ['CREATED', 'REVIEW', 'PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED', 'CANCELED', 'REFUNDED'] as const;
export type OrderStatus = (typeof OrderStatus)[number];
export const CancelReason = ['USER_CANCELED', 'PAYMENT_TIMEOUT', 'OUT_OF_STOCK', 'RISK_REJECTED'] as const;
export type CancelReason = (typeof CancelReason)[number];

export const eventSchemas = {
  /** An order was accepted (status CREATED); inventory reserves its stock (the asynchronous path). */
  'order.created': z.object({ orderId: id, userId: id, items: z.array(line).min(1), payable: money, expireAt: z.string().datetime(), flashSale: z.boolean() }),
  /** Every order status transition: drives inventory, payment, fulfillment and live subscriptions. */
  'order.status-changed': z.object({
    orderId: id,
    userId: id,
    from: z.enum(OrderStatus),
    to: z.enum(OrderStatus),
    reason: z.enum(CancelReason).nullable(),
    version: z.number().int().positive(),
    /** For REFUNDED: whether sold stock goes back to available (nothing was shipped). */
    restock: z.boolean().optional(),
    /**
     * For REFUNDED of a partly shipped order: the quantities of the parcels the refund stopped,
     * which go back to available (what shipped stays sold).
     */
    restockItems: z.array(allocation).optional(),
  }),
  /** A payment succeeded for an order that can no longer take it: the payment subgraph refunds it. */
  'order.payment-rejected': z.object({ orderId: id, paymentId: id, reason: z.string().max(200) }),
  /** The order asks the payment subgraph to refund (after-sale); restock tells whether stock returns. */
  'order.refund-requested': z.object({ refundId: id, orderId: id, amount: money, reason: z.string().max(500), restock: z.boolean() }),
  /**
   * A SKU's facts as the catalog now holds them (on creation and on every change): the order
   * subgraph keeps its price copy from it, gateways drop cached answers holding it. `revision`
   * grows with every change, so a late or duplicated event never overwrites a newer one.
   */
  'catalog.sku-changed': z.object({
    skuId: id,
    productId: id,
    title: z.string().max(500),
    flashSale: z.boolean(),
    flashSaleStartsAt: z.string().datetime().nullable(),
    price: money,
    revision: z.number().int().positive(),
  }),
  /** A product was created or its listing facts changed: gateways drop cached listings and searches. */
  'catalog.product-changed': z.object({ productId: id, skuIds: z.array(id) }),
  'inventory.stock-reserved': z.object({ orderId: id, allocations: z.array(allocation).min(1) }),
  'inventory.stock-rejected': z.object({ orderId: id, shortages: z.array(z.object({ skuId: id, requested: qty, available: z.number().int().nonnegative() })) }),
  'inventory.stock-confirmed': z.object({ orderId: id, allocations: z.array(allocation).min(1) }),
  'inventory.stock-released': z.object({ orderId: id, restocked: z.boolean() }),
  'payment.succeeded': z.object({ paymentId: id, orderId: id, paymentTxnId: id, amount: money }),
  'payment.failed': z.object({ paymentId: id, orderId: id, paymentTxnId: id }),
  /** refundId is the order's refund request, or null for a compensation the payment subgraph started itself. */
  'payment.refunded': z.object({ refundId: id.nullable(), paymentId: id, orderId: id, amount: money, reason: z.string().max(500) }),
  'payment.refund-failed': z.object({ refundId: id.nullable(), paymentId: id, orderId: id, error: z.string().max(500) }),
  'fulfillment.order-shipped': z.object({ orderId: id }),
  'fulfillment.order-delivered': z.object({ orderId: id }),
} as const;

export type EventType = keyof typeof eventSchemas;

/**
 * Event types no consumer subscribes to today (kept for the audit trail and future consumers). The
 * outbox relay publishes every other type as mandatory: if no queue is bound for it, the broker
 * returns it and the row stays unpublished (outbox_unroutable) instead of vanishing.
 */
export const EVENTS_WITHOUT_CONSUMERS: ReadonlySet<EventType> = new Set<EventType>([
  'inventory.stock-released',
  'payment.failed',
  // Only for dropping cached answers: when no gateway listens, there is nothing cached to drop, and
  // the catalog's outbox must not hold it back (catalog.sku-changed, which the order subgraph's price
  // copy needs, stays mandatory).
  'catalog.product-changed',
]);
export type EventPayload<T extends EventType> = z.infer<(typeof eventSchemas)[T]>;
export const EVENT_VERSION: Record<EventType, number> = Object.fromEntries(Object.keys(eventSchemas).map((t) => [t, 1])) as Record<EventType, number>;

export interface EventEnvelope<T extends EventType = EventType> {
  eventId: string;
  type: T;
  version: number;
  occurredAt: string;
  aggregateId: string;
  correlationId: string;
  payload: EventPayload<T>;
  /** W3C trace context of the emitting transaction, when tracing is on (kit tracing.ts). */
  trace?: Record<string, string>;
}

export const isEventType = (type: string): type is EventType => Object.hasOwn(eventSchemas, type);

/** Validates a message body from the broker: a clear error for anything that is not a known event. */
export function parseEvent(raw: unknown): EventEnvelope {
  const envelope = envelopeSchema.parse(raw);
  if (!isEventType(envelope.type)) throw new Error(`unknown event type "${envelope.type}"`);
  if (envelope.version !== EVENT_VERSION[envelope.type]) throw new Error(`unsupported version ${envelope.version} of ${envelope.type}`);
  const payload = eventSchemas[envelope.type].parse(envelope.payload);
  return { ...envelope, type: envelope.type, payload } as EventEnvelope;
}
