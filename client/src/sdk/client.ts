import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface ShopClientOptions {
  /** The gateway's GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  /** A client JWT; omit for anonymous catalog reads. */
  token?: string;
  /** graphql-ws endpoint; default: `url` with http(s) replaced by ws(s). */
  wsUrl?: string;
  /** Extra HTTP headers on every request (e.g. x-correlation-id). */
  headers?: Record<string, string>;
  /** fetch implementation; default: the global fetch. */
  fetch?: typeof fetch;
  /** WebSocket implementation for subscriptions; default: the `ws` package. */
  webSocketImpl?: unknown;
}

/** A failed request: the GraphQL errors as the gateway sent them (code in `code`), or an HTTP failure. */
export class ShopRequestError extends Error {
  readonly errors: readonly GraphQLFormattedError[];
  readonly status: number | undefined;
  constructor(message: string, errors: readonly GraphQLFormattedError[], status?: number) {
    super(message);
    this.name = 'ShopRequestError';
    this.errors = errors;
    this.status = status;
  }
  /** extensions.code of the first error (UNAUTHENTICATED, STOCK_NOT_ENOUGH, ...). */
  get code(): string | undefined {
    const code = this.errors[0]?.extensions?.code;
    return typeof code === 'string' ? code : undefined;
  }
  /** The same errors in the shape the storefront's error-message mapping reads. */
  get graphQLErrors(): readonly GraphQLFormattedError[] {
    return this.errors;
  }
}

/** Variables are optional exactly when the operation has none. */
type VariablesArg<V> = [V] extends [Record<string, never>] ? [variables?: V] : [variables: V];

export interface ShopClient {
  /** Runs a query or mutation over HTTP POST; resolves with `data`, rejects with ShopRequestError. */
  request<R, V>(document: TypedDocumentNode<R, V>, ...variables: VariablesArg<V>): Promise<R>;
  /** Runs a subscription over graphql-ws; each pushed `data` is one item of the async iterator. */
  subscribe<R, V>(document: TypedDocumentNode<R, V>, ...variables: VariablesArg<V>): AsyncIterableIterator<R>;
  /** The same gateway with another token (or none). Shares nothing with this client. */
  withToken(token: string | undefined): ShopClient;
  /** Closes the subscription socket, if one was opened. */
  close(): Promise<void>;
}

const printed = new WeakMap<DocumentNode, string>();
function queryText(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
}

const operationName = (document: DocumentNode): string | undefined => {
  for (const definition of document.definitions) {
    if (definition.kind === 'OperationDefinition') return definition.name?.value;
  }
  return undefined;
};

const toWsUrl = (url: string): string => url.replace(/^http(s?):\/\//, 'ws$1://');

interface GraphQLResponse<R> {
  data?: R | null;
  errors?: GraphQLFormattedError[];
}

/** The typed SDK: the storefront's generated documents, usable from Node (system tests, benchmarks). */
export function createShopClient(options: ShopClientOptions): ShopClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  const authorization = options.token ? `Bearer ${options.token}` : undefined;
  let ws: WsClient | undefined;

  const socket = (): WsClient => {
    ws ??= createWsClient({
      url: options.wsUrl ?? toWsUrl(options.url),
      webSocketImpl: options.webSocketImpl ?? WebSocket,
      connectionParams: authorization ? { authorization } : {},
      lazy: true,
      retryAttempts: 3,
    });
    return ws;
  };

  return {
    async request<R, V>(document: TypedDocumentNode<R, V>, ...args: VariablesArg<V>): Promise<R> {
      const response = await doFetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(authorization ? { authorization } : {}),
          ...options.headers,
        },
        body: JSON.stringify({ query: queryText(document), operationName: operationName(document), variables: args[0] ?? {} }),
      });
      let body: GraphQLResponse<R>;
      try {
        body = (await response.json()) as GraphQLResponse<R>;
      } catch {
        throw new ShopRequestError(`The gateway answered HTTP ${response.status} without a GraphQL body`, [], response.status);
      }
      if (body.errors && body.errors.length > 0) {
        throw new ShopRequestError(body.errors.map((e) => e.message).join('; '), body.errors, response.status);
      }
      if (!response.ok || body.data === undefined || body.data === null) {
        throw new ShopRequestError(`The gateway answered HTTP ${response.status} without data`, [], response.status);
      }
      return body.data;
    },

    subscribe<R, V>(document: TypedDocumentNode<R, V>, ...args: VariablesArg<V>): AsyncIterableIterator<R> {
      const results = socket().iterate<R>({
        query: queryText(document),
        operationName: operationName(document),
        variables: (args[0] ?? {}) as Record<string, unknown>,
      });
      const iterator: AsyncIterableIterator<R> = {
        async next(): Promise<IteratorResult<R>> {
          const step = await results.next();
          if (step.done) return { done: true, value: undefined };
          const { data, errors } = step.value;
          if (errors && errors.length > 0) {
            await results.return?.();
            throw new ShopRequestError(errors.map((e) => e.message).join('; '), errors);
          }
          return { done: false, value: data as R };
        },
        async return(): Promise<IteratorResult<R>> {
          await results.return?.();
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },

    withToken(token: string | undefined): ShopClient {
      const { token: _previous, ...rest } = options;
      return createShopClient(token ? { ...rest, token } : rest);
    },

    async close(): Promise<void> {
      if (ws) await ws.dispose();
      ws = undefined;
    },
  };
}
