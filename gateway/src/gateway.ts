import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import cors from 'cors';
import { ApolloServer } from '@apollo/server';
import { ApolloGateway } from '@apollo/gateway';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import {
  CORRELATION_HEADER,
  DomainError,
  checkSecrets,
  createRedis,
  correlationIdFrom,
  envString,
  isProduction,
  keptAlive,
  listenOnSharedPort,
  logger,
  metricsPlugin,
  mountOperations,
  type SharedPort,
} from '@shop/kit';
import type { GatewayContext } from './auth.js';
import { serviceBuilder } from './data-source.js';
import { mountExplorer } from './explorer.js';
import { fastReads, type FastReads } from './fast-reads/index.js';
import { flashSaleEdge } from './flash-sale/admission-plugin.js';
import { formatGatewayError } from './format-error.js';
import { httpMetrics } from './http-metrics.js';
import { mountPaymentCallback } from './payment-callback.js';
import { loadPartnerManifest, persistedQueriesOptions } from './persisted-queries.js';
import { edgePolicy, httpAdmission, type EdgePolicy } from './policy/edge-policy.js';
import type { QueryLimits } from './policy/limits.js';
import { rateLimiter, rateLimitsFromEnv, type RateLimits } from './rate-limit/index.js';
import { subgraphChecks } from './readiness.js';
import { subgraphHttp, subgraphPoolFromEnv, type SubgraphPool } from './subgraph-http.js';
import { readSupergraphSdl, subgraphsOf } from './supergraph.js';
import { attachSubscriptions, orderEvents, subscriptionsOverHttpRefused, type SubscriptionLimits, type SubscriptionServer } from './subscriptions/index.js';

export interface GatewayOptions {
  /** The composed supergraph; default: schema/supergraph.graphql or SUPERGRAPH_PATH. */
  supergraphSdl?: string;
  /** Browser origins allowed by CORS; default: CORS_ORIGINS (comma-separated) or the local storefront. */
  corsOrigins?: string[];
  /** Query limits; default: the GRAPHQL_MAX_* environment variables (see policy/limits.ts). */
  queryLimits?: Partial<QueryLimits>;
  /** graphql-ws limits; default: the WS_* environment variables (see subscriptions/ws-server.ts). */
  subscriptionLimits?: Partial<SubscriptionLimits>;
  /** Rate limits per client; default: GATEWAY_RATE_LIMITS (see rate-limit/index.ts). */
  rateLimits?: Partial<RateLimits>;
  /** Redis of the shared rate-limit counters and flash-sale admission; default: REDIS_URL. */
  redisUrl?: string;
  /** Namespace of the rate-limit counters in Redis: replicas of one deployment share it (tests isolate themselves with one of their own). */
  rateLimitNamespace?: string;
  /** Connections to the subgraphs; default: SUBGRAPH_CONNECTIONS, SUBGRAPH_KEEPALIVE_MS (see subgraph-http.ts). */
  subgraphPool?: Partial<SubgraphPool>;
}

export interface Gateway {
  app: Express;
  /** The HTTP server; a graphql-ws server attaches to it on the /graphql path. */
  httpServer: http.Server;
  apollo: ApolloServer<GatewayContext>;
  /** Who may run what, for HTTP and graphql-ws alike. */
  policy: EdgePolicy;
  /** orderStatusChanged over graphql-ws on the same path; undefined when the supergraph has no orders. */
  subscriptions?: SubscriptionServer;
  /** The response cache of anonymous reads and its invalidation by events (fast-reads/). */
  fastReads: FastReads;
  start(port: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops accepting requests, drains those in flight, stops the gateway. Idempotent. */
  stop(): Promise<void>;
}

export const GRAPHQL_PATH = '/graphql';
const BODY_LIMIT = '1mb';

const corsOriginsFromEnv = (): string[] =>
  envString('CORS_ORIGINS', 'http://127.0.0.1:5173,http://localhost:5173')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);

/** A GraphQL-shaped error answer for failures outside Apollo (bad token, body too large, ...). */
const errorBody = (message: string, code: string) => ({ errors: [{ message, extensions: { code } }] });

/** Verifies the bearer token once per request; an invalid or expired one stops the request with 401. */
const authenticate =
  (policy: EdgePolicy): RequestHandler =>
  (req, res, next) => {
    policy.identify(req.headers.authorization).then(
      (identity) => {
        res.locals.identity = identity;
        next();
      },
      (error: unknown) => {
        if (error instanceof DomainError) {
          res.status(401).json(errorBody(error.message, String(error.extensions.code)));
        } else {
          next(error);
        }
      },
    );
  };

/** Express-level failures (malformed JSON, body over the limit) answered as JSON, never a stack trace. */
const handleHttpError: ErrorRequestHandler = (error: { status?: number; type?: string }, req, res, _next) => {
  const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
  if (status === 500) logger.error({ err: error, path: req.path }, 'gateway request failed');
  const message = status === 413 ? `The request body is larger than ${BODY_LIMIT}` : status === 500 ? 'Internal server error' : 'The request is malformed';
  res.status(status).json(errorBody(message, status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST'));
};

/** Builds the gateway (Apollo Gateway over the composed supergraph, plus the HTTP routes); `start` listens. */
export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const supergraphSdl = options.supergraphSdl ?? readSupergraphSdl();
  const production = isProduction();
  // Every secret the gateway uses, checked before anything starts: wrong ones fail here in production, and warn in development.
  checkSecrets(['JWT_SECRET', 'INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN']);
  const policy = edgePolicy({ partnerOperations: loadPartnerManifest(), limits: options.queryLimits });
  const app = express();
  app.disable('x-powered-by');
  // No ETag: GraphQL answers are POST responses no client revalidates, and hashing each body cost
  // the gateway about 1.5% of its CPU in a flash sale (npm run bench:flash-sale -- --profile).
  app.set('etag', false);
  const httpServer = keptAlive(http.createServer(app));
  // The limits first: a malformed GATEWAY_RATE_LIMITS stops the start before anything connects.
  const limits = rateLimitsFromEnv(undefined, options.rateLimits);
  // One Redis connection for the rate-limit counters and the flash-sale admission, auto-pipelined (the
  // commands of concurrent requests go out in one write); a command that takes longer than 200 ms
  // counts as Redis down (both then let the request through, see each).
  const redis = createRedis({ name: 'gateway', url: options.redisUrl, commandTimeoutMs: 200, autoPipelining: true });
  const flashSale = flashSaleEdge(redis);
  const limiter = rateLimiter({ redis, limits, namespace: options.rateLimitNamespace });
  const reads = fastReads();
  // Subgraph fetches and payment callbacks go over one pool; readiness probes over two connections of their own per
  // subgraph, so a probe never queues behind a busy pool's requests.
  const pool = subgraphPoolFromEnv(options.subgraphPool);
  const internalHttp = subgraphHttp(pool);
  const probeHttp = subgraphHttp({ ...pool, connections: 2 });

  // Apollo Gateway reports the host (CPU, memory, cloud provider, probed at start from the cloud's metadata
  // address) to Apollo's servers every hour and at stop, unless APOLLO_TELEMETRY_DISABLED is set. A shop's
  // gateway sends nothing outside the system unless its operator allows it: APOLLO_TELEMETRY_DISABLED=false.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  const apollo = new ApolloServer<GatewayContext>({
    gateway: new ApolloGateway({ supergraphSdl, buildService: serviceBuilder(internalHttp) }),
    formatError: formatGatewayError,
    includeStacktraceInErrorResponses: false,
    // stopOnSignals() owns SIGINT/SIGTERM: one orderly shutdown, not two racing ones.
    stopOnTerminationSignals: false,
    introspection: !production,
    validationRules: policy.validationRules,
    parseOptions: policy.parseOptions,
    ...persistedQueriesOptions(),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
      ApolloServerPluginInlineTraceDisabled(),
      metricsPlugin(policy.operationLabel),
      subscriptionsOverHttpRefused,
      flashSale.plugin,
      ...reads.plugins,
    ],
  });
  await apollo.start();

  const subscriptions = await attachSubscriptions({
    httpServer,
    path: GRAPHQL_PATH,
    apollo,
    policy,
    supergraphSdl,
    limits: options.subscriptionLimits,
    rateLimit: limiter,
  });
  const checks = { ...subgraphChecks(subgraphsOf(supergraphSdl), probeHttp), ...(subscriptions ? { rabbitmq: () => orderEvents.check() } : {}) };
  app.use(httpMetrics);
  mountOperations(app, { service: 'gateway', checks });
  mountPaymentCallback(app, internalHttp);
  if (!production) mountExplorer(app, { graphqlPath: GRAPHQL_PATH });
  app.use(
    GRAPHQL_PATH,
    cors({ origin: options.corsOrigins ?? corsOriginsFromEnv(), maxAge: 600 }),
    (req, res, next) => {
      res.locals.correlationId = correlationIdFrom(req.headers);
      res.setHeader(CORRELATION_HEADER, res.locals.correlationId as string);
      next();
    },
    authenticate(policy),
    limiter.middleware,
    express.json({ limit: BODY_LIMIT }),
    httpAdmission(policy),
    flashSale.httpShortcut,
    expressMiddleware(apollo, {
      context: async ({ req, res }) => ({ identity: res.locals.identity, correlationId: res.locals.correlationId as string, ...policy.clientFacts(req) }),
    }),
  );
  app.use(handleHttpError);

  let stopping: Promise<void> | undefined;
  let shared: SharedPort | undefined;
  return {
    app,
    httpServer,
    apollo,
    policy,
    subscriptions,
    fastReads: reads,
    async start(port, host = '127.0.0.1') {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      shared = await listenOnSharedPort(httpServer, host);
      const bound = (httpServer.address() as AddressInfo).port;
      const url = `http://${host}:${bound}${GRAPHQL_PATH}`;
      logger.info({ url }, 'gateway ready');
      return { url, port: bound };
    },
    stop: () =>
      (stopping ??= (async () => {
        logger.info('gateway stopping');
        // New connections go to the other gateways on the shared port while this one drains its own.
        await shared?.close();
        // Subscriptions first: their last reads still go through Apollo, and upgraded sockets are not drained by it.
        await subscriptions?.stop();
        await apollo.stop();
        await reads.stop();
        redis.disconnect();
        await Promise.all([internalHttp.close(), probeHttp.close()]);
      })()),
  };
}
