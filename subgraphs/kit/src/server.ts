import http from 'node:http';
import express, { type Express, type Request } from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { MikroORM } from '@mikro-orm/postgresql';
import { DomainError, ErrorCode, formatError } from './errors.js';
import { checkSecrets, keepAliveTimeoutMs, listenHost, type SubgraphName } from './config.js';
import { CLIENT_IP_HEADER, DEVICE_ID_HEADER, IDENTITY_HEADER, verifyInternalIdentity, type Identity } from './identity.js';
import { logger } from './logger.js';
import { metricsPlugin, rootFieldLabel } from './metrics.js';
import { correlationIdFrom, mountOperations } from './operations.js';
import { type ReadinessCheck } from './readiness.js';
import { roundTrip, watchDatabase } from './liveness.js';
import { cacheHintsPlugin, type CacheHints } from './cache-hints.js';
import { listenOnSharedPort } from './shared-port.js';
import type { SubgraphContext } from './context.js';

export { runChecks, withTimeout, type ReadinessCheck } from './readiness.js';

/** In-process subgraphs by URL: lets test helpers sign an identity for the subgraph they call. */
const running = new Map<string, SubgraphName>();
export const subgraphAt = (url: string): SubgraphName | undefined => running.get(url);

export interface SubgraphServerOptions {
  name: SubgraphName;
  port: number;
  host?: string;
  schema: GraphQLSchema;
  orm: MikroORM;
  /** Extra readiness checks (the broker, ...); the database is always checked. */
  readiness?: Record<string, ReadinessCheck>;
  /** Extra HTTP routes (internal endpoints such as the payment callback). */
  routes?: (app: Express) => void;
  /** How long the subgraph's public data may be cached (cache-hints.ts); none: every answer is uncacheable. */
  cacheHints?: CacheHints;
  /** Called on shutdown after HTTP stops accepting work, before the database closes. */
  onShutdown?: () => Promise<void>;
}

export interface RunningSubgraph {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Runs one subgraph: GraphQL at /graphql, /healthz, /readyz, /livez, /metrics, graceful shutdown.
 * /readyz fails while a dependency is down (take the process out of the load balancer); /livez
 * fails only when the process is wedged (restart it): see liveness.ts.
 */
export async function startSubgraph(options: SubgraphServerOptions): Promise<RunningSubgraph> {
  // Every subgraph verifies forwarded identities; a subgraph with secrets of its own checks them first thing in its start().
  checkSecrets(['INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN']);
  const app = express();
  app.disable('x-powered-by');
  // No ETag: the gateway's POSTs never revalidate, and hashing every answer is CPU on each call (as in gateway.ts).
  app.set('etag', false);
  const httpServer = keptAlive(http.createServer(app));
  const apollo = new ApolloServer<SubgraphContext>({
    schema: options.schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    // stopOnSignals() owns SIGINT/SIGTERM: one orderly shutdown, not two racing ones.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      metricsPlugin(rootFieldLabel),
      ...(options.cacheHints ? [cacheHintsPlugin(options.cacheHints)] : []),
    ],
  });
  await apollo.start();

  const checks: Record<string, ReadinessCheck> = {
    postgres: async () => {
      await roundTrip(options.orm);
    },
    ...options.readiness,
  };

  mountOperations(app, { service: options.name, checks });
  app.locals.subgraph = options.name;
  const liveness = watchDatabase(options.orm, String(options.orm.config.get('clientUrl')));
  app.get('/livez', (_req, res) => {
    const state = liveness.state();
    res.status(state.live ? 200 : 503).json({ service: options.name, status: state.live ? 'ok' : 'wedged', ...(state.reason ? { reason: state.reason } : {}) });
  });
  options.routes?.(app);
  app.use('/graphql', express.json({ limit: '1mb' }), expressMiddleware(apollo, { context: async ({ req }) => buildContext(req, options.name, options.orm) }));

  const host = options.host ?? listenHost();
  await new Promise<void>((resolve) => httpServer.listen(options.port, host, resolve));
  const shared = await listenOnSharedPort(httpServer, host);
  const address = httpServer.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://127.0.0.1:${port}/graphql`;
  running.set(url, options.name);
  logger.info({ url }, `${options.name} subgraph ready`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      logger.info(`${options.name} subgraph stopping`);
      running.delete(url);
      liveness.stop();
      // New connections go to the other processes on the shared port while this one drains its own.
      await shared?.close();
      await apollo.stop();
      logger.debug('http server drained');
      await options.onShutdown?.();
      await options.orm.close();
      logger.debug('database closed');
    })());
  return { url, port, stop };
}

/**
 * A server that keeps idle keep-alive connections for HTTP_KEEPALIVE_TIMEOUT_MS (config.ts); its
 * headers timeout stays longer, as Node asks, so a request that starts as the keep-alive ends is not cut.
 */
export function keptAlive(server: http.Server): http.Server {
  server.keepAliveTimeout = keepAliveTimeoutMs();
  server.headersTimeout = Math.max(server.headersTimeout, server.keepAliveTimeout + 1_000);
  return server;
}

async function buildContext(req: Request, subgraph: SubgraphName, orm: MikroORM): Promise<SubgraphContext> {
  const header = req.headers[IDENTITY_HEADER];
  let identity: Identity | undefined;
  if (typeof header === 'string' && header.length > 0) {
    try {
      identity = await verifyInternalIdentity(header, subgraph);
    } catch (error) {
      // A forged or expired forwarded identity refuses the whole request, with HTTP 401.
      if (error instanceof DomainError) throw new DomainError(ErrorCode.UNAUTHENTICATED, error.message, { http: { status: 401 } });
      throw error;
    }
  }
  const header1 = (name: string): string | null => {
    const value = req.headers[name];
    return typeof value === 'string' && value.length > 0 && value.length <= 128 ? value : null;
  };
  return {
    identity,
    clientIp: header1(CLIENT_IP_HEADER),
    deviceId: header1(DEVICE_ID_HEADER),
    correlationId: correlationIdFrom(req.headers),
    em: orm.em.fork(),
    loaders: new Map(),
  };
}

/**
 * Stops the process cleanly on Ctrl-C or SIGTERM: drain, close, exit 0. Repeated signals are
 * ignored (Ctrl-C reaches a process both from the terminal and from a process runner); a shutdown
 * that takes longer than SHUTDOWN_TIMEOUT_MS (default 15 s) exits 1.
 */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const limit = Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 15_000);
    setTimeout(() => {
      logger.error({ limitMs: limit }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, limit).unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
