import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as OtelApi from '@opentelemetry/api';

/**
 * OpenTelemetry tracing, off by default at no cost: unless OTEL_EXPORTER_OTLP_ENDPOINT is set (or a
 * test passes an exporter), no OpenTelemetry package is even loaded and every helper below returns at
 * once. When on, the Node SDK exports spans over OTLP/HTTP (the standard OTEL_* variables apply) from
 * these instrumentations: incoming and outgoing HTTP (`http`; the gateway's subgraph fetches and the
 * subgraphs' internal calls are `fetch`, so `undici` too, which puts the W3C `traceparent` on them),
 * Express routes and PostgreSQL queries (`pg`). Events carry the trace context of the transaction
 * that emitted them (outbox.ts); the outbox relay publishes each in a PRODUCER span linked to it,
 * whose context goes in the AMQP headers (relay.ts), and consumers continue the event's trace in a
 * CONSUMER span linked to that producer (consumer.ts).
 * The correlation id of a request is its trace id (operations.ts).
 */
let api: typeof OtelApi | undefined;
let sdk: { shutdown(): Promise<void> } | undefined;

export interface TracingOptions {
  /** service.name of the spans. */
  service: string;
  /** Spans go here instead of OTLP (tests: the SDK's InMemorySpanExporter). */
  exporter?: unknown;
}

/**
 * Starts tracing when configured; returns whether it is on. It must run before the modules it
 * instruments are first loaded: each process's entry imports `@shop/kit/tracing-start` first.
 */
export function startTracing(options: TracingOptions): boolean {
  if (api) return true;
  if (!options.exporter && !process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return false;
  const require = createRequire(import.meta.url);
  const { NodeSDK, tracing } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
  const probes = /^\/(healthz|readyz|livez|metrics)\b/;
  const started = new NodeSDK({
    serviceName: options.service,
    ...(options.exporter
      ? { spanProcessors: [new tracing.SimpleSpanProcessor(options.exporter as InstanceType<typeof tracing.InMemorySpanExporter>)] }
      : { traceExporter: new OTLPTraceExporter() }),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => probes.test(req.url ?? '') }),
      new UndiciInstrumentation(),
      new ExpressInstrumentation(),
      new PgInstrumentation(),
    ],
  });
  started.start();
  // Loaded now, under the instrumentations' hooks: later imports of them get these patched modules.
  for (const name of ['http', 'https', 'express', 'pg']) require(name);
  // MikroORM's driver has a pg of its own (node_modules/@mikro-orm/postgresql/node_modules/pg).
  const mikroOrm = (require.resolve.paths('@mikro-orm/postgresql') ?? [])
    .map((dir) => join(dir, '@mikro-orm/postgresql/package.json'))
    .find((path) => existsSync(path));
  if (mikroOrm) createRequire(mikroOrm)('pg');
  sdk = started;
  api = require('@opentelemetry/api') as typeof OtelApi;
  return true;
}

/** A span the in-memory exporter of `startInMemoryTracing` holds. */
export type FinishedSpan = ReturnType<InstanceType<(typeof import('@opentelemetry/sdk-node'))['tracing']['InMemorySpanExporter']>['getFinishedSpans']>[number];

/**
 * For tests: starts tracing into the SDK's in-memory exporter and answers it with the OpenTelemetry
 * API. Like an entry's first import, it must run before the modules it instruments are loaded.
 */
export function startInMemoryTracing(service: string): { exporter: { getFinishedSpans(): FinishedSpan[] }; api: typeof OtelApi } {
  const require = createRequire(import.meta.url);
  const { tracing } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const exporter = new tracing.InMemorySpanExporter();
  startTracing({ service, exporter });
  return { exporter, api: require('@opentelemetry/api') as typeof OtelApi };
}

/** Flushes and stops the SDK (process shutdown, tests). */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  api = undefined;
  await running?.shutdown();
}

export const tracingEnabled = (): boolean => api !== undefined;

/** The trace id of the active span, or undefined when tracing is off or nothing is traced here. */
export function activeTraceId(): string | undefined {
  const context = api?.trace.getActiveSpan()?.spanContext();
  return context && api!.isSpanContextValid(context) ? context.traceId : undefined;
}

/** The W3C trace context of the active span (`traceparent`, `tracestate`), to carry on an event; {} when off. */
export function traceContextHeaders(): Record<string, string> {
  if (!api) return {};
  const carrier: Record<string, string> = {};
  api.propagation.inject(api.context.active(), carrier);
  return carrier;
}

const headerGetter: OtelApi.TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
  },
};

/** The context of a carrier's W3C headers, or undefined when it holds none valid. */
function spanContextOf(otel: typeof OtelApi, carrier: Record<string, unknown> | undefined): OtelApi.SpanContext | undefined {
  if (!carrier) return undefined;
  const found = otel.trace.getSpanContext(otel.propagation.extract(otel.ROOT_CONTEXT, carrier, headerGetter));
  return found && otel.isSpanContextValid(found) ? found : undefined;
}

async function inSpan<T>(otel: typeof OtelApi, span: OtelApi.Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: otel.SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Runs `publish` in a PRODUCER span (the outbox relay sending one event to RabbitMQ). The relay
 * publishes long after, and apart from, the transaction that emitted the event, so the span is not
 * that transaction's child: it links the trace context stored with the event (`stored`, outbox.ts).
 * `publish` gets the AMQP headers that carry this span's context (consumers link it). When tracing
 * is off it just runs `publish({})`.
 */
export async function inProducerSpan<T>(
  name: string,
  stored: Record<string, unknown> | undefined,
  attributes: Record<string, string>,
  publish: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  if (!api) return publish({});
  const otel = api;
  const emitter = spanContextOf(otel, stored);
  const span = otel.trace.getTracer('shop').startSpan(name, {
    kind: otel.SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'rabbitmq', 'messaging.operation.type': 'send', ...attributes },
    links: emitter ? [{ context: emitter }] : [],
  });
  const headers: Record<string, string> = {};
  otel.propagation.inject(otel.trace.setSpan(otel.context.active(), span), headers);
  return inSpan(otel, span, () => publish(headers));
}

/**
 * Runs `work` in a CONSUMER span (a consumer handling one event): its parent is the trace the event
 * carries (`trace`, the emitting transaction's), so the handler's spans (its queries) continue the
 * request that caused them; it links the relay's PRODUCER span found in the AMQP `headers`. An event
 * emitted untraced continues the producer's trace instead. Just runs `work` when tracing is off.
 */
export async function inConsumerSpan<T>(
  name: string,
  trace: Record<string, unknown> | undefined,
  headers: Record<string, unknown> | undefined,
  attributes: Record<string, string>,
  work: () => Promise<T>,
): Promise<T> {
  if (!api) return work();
  const otel = api;
  const emitter = spanContextOf(otel, trace);
  const producer = spanContextOf(otel, headers);
  const parent = emitter ?? producer;
  const links = producer && emitter ? [{ context: producer }] : [];
  const span = otel.trace
    .getTracer('shop')
    .startSpan(
      name,
      { kind: otel.SpanKind.CONSUMER, attributes: { 'messaging.system': 'rabbitmq', 'messaging.operation.type': 'process', ...attributes }, links },
      parent ? otel.trace.setSpanContext(otel.ROOT_CONTEXT, parent) : otel.ROOT_CONTEXT,
    );
  return otel.context.with(otel.trace.setSpan(otel.context.active(), span), () => inSpan(otel, span, work));
}

/** Names the active (HTTP server) span after the GraphQL operation it runs. */
export function nameActiveSpan(operation: string): void {
  const span = api?.trace.getActiveSpan();
  if (!span) return;
  span.setAttribute('graphql.operation.name', operation);
  span.updateName(`graphql ${operation}`);
}
