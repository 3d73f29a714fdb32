import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Only the tracing module is loaded statically: tracing must start before http, express and pg load.
import { startInMemoryTracing, stopTracing, type FinishedSpan } from '@shop/kit/tracing';

const { exporter, api } = startInMemoryTracing('tracing-test');

const support = await import('./subscriptions/test-support.js');
const { mintClientToken } = await import('@shop/kit');
const { eventually, user } = await import('@shop/kit/testing');
const { createStockedSku } = await import('../../tests/support/fixtures.js');

let stack: Awaited<ReturnType<typeof support.startStack>>;
let gw: Awaited<ReturnType<typeof support.startGateway>>;

beforeAll(async () => {
  stack = await support.startStack();
  gw = await support.startGateway();
});
afterAll(async () => {
  await gw?.stop();
  await stack?.stop();
  await stopTracing();
});

type Span = FinishedSpan;
const spansOf = (traceId: string): Span[] => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
const isPostgres = (s: Span) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql';

async function post(query: string, variables: Record<string, unknown>, token?: string) {
  const response = await fetch(gw.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { correlationId: response.headers.get('x-correlation-id') ?? '', body: (await response.json()) as { data?: any; errors?: unknown } };
}

describe('tracing (OpenTelemetry, on when configured)', () => {
  it('follows a request from the gateway through a subgraph to PostgreSQL, and the correlation id is the trace id', async () => {
    const answer = await post(`query($s: String) { products(first: 2, search: $s) { edges { node { id } } } }`, { s: `traced${Date.now()}` });
    expect(answer.body.errors).toBeUndefined();
    const traceId = answer.correlationId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const spans = await eventually(async () => {
      const found = spansOf(traceId);
      return found.some(isPostgres) && found.filter((s) => s.kind === api.SpanKind.SERVER).length >= 2 ? found : undefined;
    });
    const servers = spans.filter((s) => s.kind === api.SpanKind.SERVER);
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const parentOf = (s: Span) => (s.parentSpanContext ? byId.get(s.parentSpanContext.spanId) : undefined);
    // The gateway's server span (under this test's own fetch), Apollo Gateway's fetch to the catalog
    // (a client span below it), and the catalog's server span under that fetch.
    const catalogServer = servers.find((s) => parentOf(s)?.kind === api.SpanKind.CLIENT && parentOf(parentOf(s)!) !== undefined);
    expect(catalogServer, 'a subgraph server span under the gateway fetch').toBeDefined();
    let ancestor = parentOf(catalogServer!);
    while (ancestor && ancestor.kind !== api.SpanKind.SERVER) ancestor = parentOf(ancestor);
    expect(ancestor, 'the gateway server span above it').toBeDefined();
    expect(servers.length).toBeGreaterThanOrEqual(2);
    expect(spans.filter(isPostgres).length).toBeGreaterThan(0);
  });

  it('carries the trace through an event to its consumer (trace context stored with the event)', async () => {
    const skuId = await createStockedSku({ catalog: stack.catalog.url, inventory: stack.inventory.url }, { stock: { 'wh-trace': 5 } });
    const token = await mintClientToken(user());
    const preview = await post(
      `mutation($input: PreviewOrderInput!) { previewOrder(input: $input) { previewId } }`,
      { input: { items: [{ skuId, qty: 1 }] } },
      token,
    );
    expect(preview.body.errors).toBeUndefined();
    const placed = await post(
      `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status } } }`,
      { input: { previewId: preview.body.data.previewOrder.previewId, clientReqId: `trace-${Date.now()}` } },
      token,
    );
    expect(placed.body.errors).toBeUndefined();
    // Placing reserves synchronously (its order.created is withdrawn), so the event followed here is
    // the cancellation's: inventory and payment consume order.status-changed to CANCELED.
    const orderId = placed.body.data.placeOrder.order.id;
    await eventually(async () =>
      (await post(`query($id: ID!) { order(id: $id) { status } }`, { id: orderId }, token)).body.data?.order?.status === 'PENDING_PAYMENT' ? true : undefined,
    );
    const canceled = await post(`mutation($id: ID!) { cancelOrder(orderId: $id) { id status } }`, { id: orderId }, token);
    expect(canceled.body.errors).toBeUndefined();
    const traceId = canceled.correlationId;
    const consumed = await eventually(async () => spansOf(traceId).find((s) => s.kind === api.SpanKind.CONSUMER && s.name.startsWith('consume order.')));
    // The consumer's own queries are in the same trace, under its span.
    await eventually(async () =>
      spansOf(traceId).some((s) => isPostgres(s) && s.parentSpanContext?.spanId === consumed.spanContext().spanId) ? true : undefined,
    );
  });
});
