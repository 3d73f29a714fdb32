// Imported first by every process's entry (gateway/src/index.ts, subgraphs/*/src/index.ts), before any
// module that tracing instruments is loaded: starts tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set,
// and loads nothing else otherwise. SERVICE_NAME names the process (npm start and the images set it).
import { startTracing } from './tracing.js';

startTracing({ service: process.env.SERVICE_NAME ?? 'shop' });
