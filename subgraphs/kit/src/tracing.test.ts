import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

describe('tracing off by default', () => {
  it('loads no OpenTelemetry SDK nor instrumentation, and answers no trace id when OTEL_EXPORTER_OTLP_ENDPOINT is unset', () => {
    // A fresh process, as a service starts: the entry's first import, then the whole kit. (Only the
    // no-op @opentelemetry/api may load: dependencies such as Apollo Gateway import it themselves.)
    const script = `
      await import(${JSON.stringify(`${dist}tracing-start.js`)});
      const kit = await import(${JSON.stringify(`${dist}index.js`)});
      const { createRequire } = await import('node:module');
      const cache = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({ on: kit.tracingEnabled(), trace: kit.activeTraceId() ?? null, otel: cache.filter((k) => k.includes('@opentelemetry/') && !k.includes('@opentelemetry/api/')).length, headers: kit.traceContextHeaders() }));
    `;
    const env = { ...process.env, LOG_LEVEL: 'error' };
    delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ on: false, trace: null, otel: 0, headers: {} });
  });
});
