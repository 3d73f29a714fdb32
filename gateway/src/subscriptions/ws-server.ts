import { decodeJwt } from 'jose';
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { CloseCode, type ExecutionResult } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  GraphQLError,
  OperationTypeNode,
  getOperationAST,
  parse,
  type DocumentNode,
  type ExecutionArgs,
  type FormattedExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { DomainError, envInt, logger, parseId, withTimeout, type Identity } from '@shop/kit';
import type { GatewayContext } from '../auth.js';
import { isRefusal, type EdgePolicy } from '../policy/edge-policy.js';
import type { RateLimiter } from '../rate-limit/index.js';
import { tokenLimitError } from '../policy/limits.js';
import { wsConnections, wsOrderReads, wsSubscriptions } from './metrics.js';
import { orderEvents } from './order-events.js';
import { openOrderSubscription, type RunQuery } from './order-subscription.js';
import type { PushStream } from './push-stream.js';
import { refetchQueryFor } from './refetch-query.js';
import { validateDocument } from './schema.js';
import { formatWsErrors, wsError, wsErrors } from './ws-errors.js';

export interface SubscriptionLimits {
  /** Live subscriptions one connection may hold. Env WS_MAX_SUBSCRIPTIONS_PER_CONNECTION, default 20. */
  maxPerConnection: number;
  /** Time a new socket has to send connection_init before it is closed with 4408. Env WS_CONNECTION_INIT_TIMEOUT_MS, default 5000. */
  connectionInitTimeoutMs: number;
  /** Interval of the server's WebSocket pings; a socket that misses a pong for as long is dropped. Env WS_KEEPALIVE_MS, default 15000. */
  keepAliveMs: number;
  /** Largest accepted message. Default 1 MiB, like the HTTP body limit. */
  maxPayloadBytes: number;
  /** How long a stopping gateway waits for clients to be sent `complete`. Default 2000. */
  shutdownGraceMs: number;
}

export const limitsFromEnv = (overrides: Partial<SubscriptionLimits> = {}): SubscriptionLimits => ({
  maxPerConnection: envInt('WS_MAX_SUBSCRIPTIONS_PER_CONNECTION', 20),
  connectionInitTimeoutMs: envInt('WS_CONNECTION_INIT_TIMEOUT_MS', 5000),
  keepAliveMs: envInt('WS_KEEPALIVE_MS', 15_000),
  maxPayloadBytes: 1024 * 1024,
  shutdownGraceMs: 2000,
  ...overrides,
});

export interface SubscriptionServerOptions {
  httpServer: http.Server;
  path: string;
  apollo: ApolloServer<GatewayContext>;
  /** The gateway's one policy (authentication, partner safelist, client facts, query limits), as over HTTP. */
  policy: EdgePolicy;
  /** Subscription documents are validated against it (see subscriptionSchema). */
  schema: GraphQLSchema;
  /** The gateway's rate limiter (rate-limit/): every operation sent over a socket counts as an HTTP request does. */
  rateLimit?: Pick<RateLimiter, 'admit'>;
  limits?: Partial<SubscriptionLimits>;
}

export interface SubscriptionServer {
  /** Open sockets and live subscriptions of this gateway (the gauges count the whole process). */
  stats(): { connections: number; subscriptions: number };
  /** Sends `complete` for every live subscription, closes the sockets (1001) and the ws server, lets go of the event feed. */
  stop(): Promise<void>;
}

interface LiveSubscription {
  stream?: PushStream<FormattedExecutionResult>;
}

interface ConnectionState {
  id: string;
  identity?: Identity;
  /** The client's address and device, for risk control (from the upgrade request and connectionParams). */
  facts?: Pick<GatewayContext, 'clientIp' | 'deviceId'>;
  subscriptions: Map<string, LiveSubscription>;
  /** Closes the connection when its bearer token expires. */
  expiry?: NodeJS.Timeout;
  /** Called by onComplete when graphql-ws has sent a subscription's `complete` (used while stopping). */
  completed: Map<string, () => void>;
}

/** What onSubscribe hands over to graphql-ws's execute/subscribe: the work is already prepared. */
type PreparedOperation =
  { kind: 'subscription'; stream: PushStream<FormattedExecutionResult> } | { kind: 'operation'; run: () => Promise<FormattedExecutionResult> };

const log = logger.child({ component: 'subscriptions' });

/** The `exp` claim (unix seconds) of an already verified "Bearer <JWT>" value. */
function tokenExpiry(authorization: unknown): number | undefined {
  if (typeof authorization !== 'string') return undefined;
  try {
    const exp = decodeJwt(authorization.replace(/^Bearer\s+/i, '')).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}
const INTERNAL: FormattedExecutionResult = { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };

/**
 * Runs an operation through the gateway's own query path (Apollo Server, its plugins and limits, the
 * query planner and the subgraphs) as the connection's client: ownership checks, risk control's
 * client facts and federated fields resolve exactly as they do over HTTP.
 */
const executeAs =
  (apollo: ApolloServer<GatewayContext>, identity: Identity, facts: ConnectionState['facts'] = {}) =>
  async (request: { query: string; variables?: Record<string, unknown>; operationName?: string }, correlationId: string): Promise<FormattedExecutionResult> => {
    const response = await apollo.executeOperation(request, { contextValue: { identity, correlationId, ...facts } });
    return response.body.kind === 'single' ? response.body.singleResult : INTERNAL;
  };

/**
 * graphql-ws on the gateway's HTTP server and GraphQL path. A connection must present
 * connectionParams.authorization = "Bearer <JWT>" (verified like the HTTP Authorization header),
 * else it is closed with 4401. `subscription { orderStatusChanged(orderId:) { ... } }` is served here,
 * driven by order.status-changed events (see openOrderSubscription); queries and mutations sent over
 * the socket run through the same path as over HTTP, under the same rate limits.
 */
export async function startSubscriptionServer(options: SubscriptionServerOptions): Promise<SubscriptionServer> {
  const { apollo, schema, policy } = options;
  const limits = limitsFromEnv(options.limits);
  /** Reads in flight, by event, identity and selection (see run below). */
  const sharedReads = new Map<string, Promise<FormattedExecutionResult>>();
  await orderEvents.acquire();

  const states = new WeakMap<WebSocket, ConnectionState>();
  const open = new Set<ConnectionState>();
  const stateOf = (socket: WebSocket): ConnectionState => {
    let state = states.get(socket);
    if (!state) {
      state = { id: randomUUID(), subscriptions: new Map(), completed: new Map() };
      states.set(socket, state);
    }
    return state;
  };
  let stopping = false;

  const wss = new WebSocketServer({ server: options.httpServer, path: options.path, maxPayload: limits.maxPayloadBytes });

  const subscribeOrder = async (
    state: ConnectionState,
    identity: Identity,
    id: string,
    document: DocumentNode,
    variables: Record<string, unknown> | null | undefined,
    operationName: string | null | undefined,
  ): Promise<ExecutionArgs | readonly GraphQLError[]> => {
    const operation = getOperationAST(document, operationName)!;
    const invalid = validateDocument(schema, document, policy.validationRules);
    if (invalid.length > 0) return wsErrors(invalid.map((e) => ({ message: e.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', ...e.extensions } })));
    if (state.subscriptions.size >= limits.maxPerConnection) {
      return wsError(`This connection already has ${limits.maxPerConnection} subscriptions, the most it may hold: complete one first`, 'BAD_USER_INPUT', {
        limit: limits.maxPerConnection,
      });
    }
    const refetch = refetchQueryFor(schema, document, operation, variables);
    if (!('query' in refetch)) return wsErrors(refetch.map((e) => ({ message: e.message, extensions: e.extensions })));
    try {
      parseId('ord', refetch.orderId, 'orderId');
    } catch (error) {
      if (error instanceof DomainError) return wsErrors([{ message: error.message, extensions: error.extensions }]);
      throw error;
    }

    const correlationId = randomUUID();
    const context = { connectionId: state.id, subscriptionId: id, orderId: refetch.orderId, userId: identity.userId };
    const live: LiveSubscription = {};
    state.subscriptions.set(id, live);
    const execute = executeAs(apollo, identity, state.facts);
    const run: RunQuery = (q, cid, shareKey) => {
      const request = { query: q.query, variables: q.variables, operationName: q.operationName };
      if (shareKey === undefined) {
        wsOrderReads.inc({ shared: 'false' });
        return execute(request, cid);
      }
      // Subscribers of one order with the same identity and selection react to one event at once:
      // one read serves them all (and the subgraphs see one request, not one per browser tab).
      const key = JSON.stringify([shareKey, identity.userId, [...identity.roles].sort(), q.query, q.operationName ?? null, q.variables]);
      const inFlight = sharedReads.get(key);
      if (inFlight) {
        wsOrderReads.inc({ shared: 'true' });
        return inFlight;
      }
      wsOrderReads.inc({ shared: 'false' });
      const read = execute(request, cid).finally(() => sharedReads.delete(key));
      sharedReads.set(key, read);
      return read;
    };
    const opened = await openOrderSubscription({
      refetch,
      run,
      hub: orderEvents,
      correlationId,
      log: log.child(context),
      onClose: () => {
        if (state.subscriptions.get(id) === live) state.subscriptions.delete(id);
        wsSubscriptions.dec();
        log.info(context, 'subscription stopped');
      },
    });
    if (opened.errors) {
      if (state.subscriptions.get(id) === live) state.subscriptions.delete(id);
      log.info({ ...context, correlationId, code: opened.errors[0]?.extensions?.code }, 'subscription refused');
      return wsErrors(opened.errors);
    }
    live.stream = opened.stream;
    wsSubscriptions.inc();
    log.info({ ...context, correlationId }, 'subscription started');
    const prepared: PreparedOperation = { kind: 'subscription', stream: opened.stream };
    return { schema, document, operationName, variableValues: variables, contextValue: prepared };
  };

  const disposable = useServer(
    {
      connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        const state = stateOf(socket);
        const refuse = (message: string) => {
          log.info({ connectionId: state.id, reason: message }, 'subscription connection refused');
          socket.close(CloseCode.Unauthorized, `UNAUTHENTICATED: ${message}`.slice(0, 120));
          return false;
        };
        if (stopping) {
          socket.close(1001, 'The gateway is shutting down');
          return false;
        }
        let identity: Identity | undefined;
        try {
          identity = await policy.identify(ctx.connectionParams?.authorization);
        } catch (error) {
          if (error instanceof DomainError) return refuse(error.message);
          throw error;
        }
        if (!identity) return refuse('connectionParams.authorization must be "Bearer <token>"');
        state.identity = identity;
        state.facts = policy.clientFacts(ctx.extra.request, ctx.connectionParams);
        // A connection lives no longer than the token it was opened with.
        const exp = tokenExpiry(ctx.connectionParams?.authorization);
        if (exp !== undefined) {
          state.expiry = setTimeout(
            () => {
              log.info({ connectionId: state.id }, 'subscription connection closed: its token expired');
              socket.close(CloseCode.Unauthorized, 'UNAUTHENTICATED: the bearer token has expired: reconnect with a new one');
            },
            Math.min(Math.max(0, exp * 1000 - Date.now()), 2_147_483_647),
          );
          state.expiry.unref();
        }
        log.info({ connectionId: state.id, userId: identity.userId }, 'subscription connection opened');
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const state = stateOf(ctx.extra.socket);
        const identity = state.identity;
        if (!identity) return wsError('Sign in first: this operation needs a bearer token', 'UNAUTHENTICATED');
        if (stopping) return wsError('The gateway is shutting down: reconnect', 'INTERNAL_SERVER_ERROR');
        // The same budget as over HTTP (per user or partner): an operation over it ends with RATE_LIMITED and its retryAfterMs.
        const limited = await options.rateLimit?.admit(identity, state.facts?.clientIp);
        if (limited) return wsErrors([limited]);
        // The same admission as over HTTP: a partner runs only its safelisted operations.
        const admitted = policy.admit(identity, payload);
        if (isRefusal(admitted)) return wsError(admitted.message, admitted.code);
        const query = admitted.query ?? payload.query;
        let document: DocumentNode;
        try {
          document = parse(query, policy.parseOptions);
        } catch (error) {
          const message = error instanceof Error ? error.message : 'The query does not parse';
          const overLimit = tokenLimitError(message);
          return overLimit ? wsErrors([{ message: overLimit.message, extensions: overLimit.extensions }]) : wsError(message, 'GRAPHQL_PARSE_FAILED');
        }
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return wsError('Name the operation to run (operationName): the document has several, or none', 'OPERATION_RESOLUTION_FAILURE');
        if (operation.operation === OperationTypeNode.SUBSCRIPTION) {
          return subscribeOrder(state, identity, id, document, payload.variables, payload.operationName);
        }
        // A query or mutation sent over the socket: Apollo validates and runs it, as over HTTP.
        const execute = executeAs(apollo, identity, state.facts);
        const request = { query, variables: payload.variables ?? undefined, operationName: payload.operationName ?? undefined };
        const prepared: PreparedOperation = { kind: 'operation', run: () => execute(request, randomUUID()) };
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue: prepared };
      },
      subscribe: (args) => (args.contextValue as PreparedOperation & { kind: 'subscription' }).stream as unknown as AsyncIterable<ExecutionResult>,
      execute: (args) => (args.contextValue as PreparedOperation & { kind: 'operation' }).run() as Promise<ExecutionResult>,
      // Results are already formatted by Apollo's formatError: sent as they are.
      onNext: (_ctx, _id, _payload, _args, result) => result as FormattedExecutionResult,
      onError: (ctx, id, _payload, errors) => formatWsErrors(errors, { connectionId: stateOf(ctx.extra.socket).id, subscriptionId: id }),
      onComplete: (ctx, id) => {
        const done = stateOf(ctx.extra.socket).completed.get(id);
        // graphql-ws sends `complete` right after this hook: let it go out before the socket closes.
        if (done) setImmediate(done);
      },
      onClose: (ctx, code, reason) => {
        const state = stateOf(ctx.extra.socket);
        clearTimeout(state.expiry);
        for (const live of state.subscriptions.values()) void live.stream?.return();
        if (state.identity) log.info({ connectionId: state.id, code, reason }, 'subscription connection closed');
      },
    },
    wss,
    limits.keepAliveMs,
  );

  wss.on('connection', (socket) => {
    const state = stateOf(socket);
    open.add(state);
    wsConnections.inc();
    socket.once('close', () => {
      open.delete(state);
      wsConnections.dec();
    });
  });

  let stopped: Promise<void> | undefined;
  return {
    stats: () => ({ connections: open.size, subscriptions: [...open].reduce((n, s) => n + s.subscriptions.size, 0) }),
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        const completions: Promise<void>[] = [];
        for (const state of open) {
          for (const [id, live] of state.subscriptions) {
            if (!live.stream) continue;
            completions.push(new Promise<void>((resolve) => state.completed.set(id, resolve)));
            live.stream.end();
          }
        }
        await withTimeout(Promise.all(completions), limits.shutdownGraceMs, 'clients were not all sent complete').catch((err: unknown) =>
          log.warn({ err }, 'stopping subscriptions'),
        );
        // Closes every socket with 1001 and waits for the close handshakes; a client that does not answer is cut off.
        const closing = Promise.resolve(disposable.dispose());
        await withTimeout(closing, limits.shutdownGraceMs, 'sockets did not close').catch(() => {
          for (const socket of wss.clients) socket.terminate();
        });
        await closing.catch((err: unknown) => log.warn({ err }, 'closing the subscription server'));
        await orderEvents.release();
        log.info('subscriptions stopped');
      })()),
  };
}
