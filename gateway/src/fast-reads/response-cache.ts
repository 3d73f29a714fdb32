import type { ApolloServerPlugin } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { Kind, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { Counter } from 'prom-client';
import { registry } from '@shop/kit';
import type { GatewayContext } from '../auth.js';

interface Entry {
  data: Record<string, unknown>;
  storedAt: number;
  expiresAt: number;
  /** What drops it: every `id` value in the answer (products, SKUs) and its operation's tags (operationTags). */
  tags: string[];
}

/** The tag of the answers that read one root field (`Query.products`): a change that can add to any listing drops them all. */
export const rootFieldTag = (field: string): string => `Query.${field}`;

/**
 * The tags an operation's answer gets beyond the ids it holds: a `rootFieldTag` per root field it
 * reads (through its fragments), and the `id` argument of each root field (`product(id: $id)`), so
 * an answer that selects no `id` is still dropped by a change of the entity it asked for.
 */
export function operationTags(operation: OperationDefinitionNode, document: DocumentNode, variables: Record<string, unknown> = {}): Set<string> {
  const tags = new Set<string>();
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        tags.add(rootFieldTag(selection.name.value));
        const id = selection.arguments?.find((arg) => arg.name.value === 'id')?.value;
        const value = id?.kind === Kind.STRING ? id.value : id?.kind === Kind.VARIABLE ? variables[id.name.value] : undefined;
        if (typeof value === 'string') tags.add(value);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet);
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) visit(fragment.selectionSet);
      }
    }
  };
  visit(operation.selectionSet);
  return tags;
}

/** The ids (`id` fields: products, SKUs, ...) an answer holds. */
export function idsIn(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) idsIn(item, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'id' && typeof inner === 'string') into.add(inner);
      else if (typeof inner === 'object') idsIn(inner, into);
    }
  }
  return into;
}

/**
 * The gateway's shared cache of anonymous query answers, in process memory: an answer is kept as
 * long as its cache policy allows (the shortest hint of the subgraphs that answered, see
 * subgraphs/kit/src/cache-hints.ts), at most `maxEntries` (least recently used go first), and is
 * dropped at once when an event says one of its tags changed (invalidation.ts): an id it holds, or a
 * root field it read (every listing, when a product may have entered or left them).
 */
export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byTag = new Map<string, Set<string>>();
  /** Invalidation sequence: an answer fetched before an invalidation of one of its tags is not stored. */
  private sequence = 0;
  private readonly invalidatedAt = new Map<string, number>();
  private clearedAt = 0;

  constructor(private readonly maxEntries = 10_000) {}

  get size(): number {
    return this.entries.size;
  }

  /** Whether a cached answer has this tag (holds this id, or read this root field's tag). */
  holds(tag: string): boolean {
    return this.byTag.has(tag);
  }

  /** A mark to pass to `set`: answers fetched after it. */
  mark(): number {
    return this.sequence;
  }

  get(key: string, now = Date.now()): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.delete(key);
      return undefined;
    }
    // Most recently used last: the Map's order is the eviction order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /**
   * Stores an answer fetched since `mark`, tagged with its ids and `operation`'s tags (operationTags),
   * unless one of its tags was invalidated meanwhile.
   */
  set(key: string, data: Record<string, unknown>, maxAgeSeconds: number, mark: number, operation: Iterable<string> = [], now = Date.now()): boolean {
    if (maxAgeSeconds <= 0 || this.clearedAt > mark) return false;
    const tags = [...new Set([...idsIn(data), ...operation])];
    if (tags.some((tag) => (this.invalidatedAt.get(tag) ?? 0) > mark)) return false;
    this.delete(key);
    this.entries.set(key, { data, storedAt: now, expiresAt: now + maxAgeSeconds * 1000, tags });
    for (const tag of tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
    while (this.entries.size > this.maxEntries) this.delete(this.entries.keys().next().value as string);
    return true;
  }

  /** Drops every answer that has one of `tags`; answers being fetched now will not be stored. */
  invalidate(tags: Iterable<string>): number {
    this.sequence += 1;
    let dropped = 0;
    for (const tag of tags) {
      this.invalidatedAt.set(tag, this.sequence);
      for (const key of [...(this.byTag.get(tag) ?? [])]) dropped += this.delete(key) ? 1 : 0;
    }
    // The marks only matter for fetches in flight; a bounded map, cleared with everything when it grows.
    if (this.invalidatedAt.size > 100_000) this.clear();
    return dropped;
  }

  /** Drops everything (after a broker reconnect, when events may have been missed). */
  clear(): void {
    this.sequence += 1;
    this.clearedAt = this.sequence;
    this.entries.clear();
    this.byTag.clear();
    this.invalidatedAt.clear();
  }

  private delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    for (const tag of entry.tags) {
      const keys = this.byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.byTag.delete(tag);
    }
    return true;
  }
}

const lookups = new Counter({
  name: 'gateway_response_cache_total',
  help: 'Anonymous queries looked up in the gateway response cache, by result (hit, miss, stored, uncacheable)',
  labelNames: ['result'] as const,
  registers: [registry],
});

/**
 * Serves anonymous queries from the cache and stores the cacheable answers. A request with an
 * identity is never read from nor written to the cache: personal data never enters it, and an
 * identified client never gets another client's answer. The answer's `age` header says how old a
 * cached answer is. Mutations and subscriptions pass by.
 */
export function responseCachePlugin(cache: ResponseCache): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      if (contextValue.identity) return {};
      let key: string | undefined;
      let mark = 0;
      let served = false;
      let tags: Set<string> | undefined;
      return {
        async responseForOperation(requestContext) {
          if (requestContext.operation.operation !== 'query') return null;
          key = `${requestContext.queryHash}\u0000${requestContext.operationName ?? ''}\u0000${JSON.stringify(requestContext.request.variables ?? {})}`;
          mark = cache.mark();
          const entry = cache.get(key);
          if (!entry) {
            tags = operationTags(requestContext.operation, requestContext.document, requestContext.request.variables);
            lookups.inc({ result: 'miss' });
            return null;
          }
          served = true;
          lookups.inc({ result: 'hit' });
          const headers = new HeaderMap([['age', String(Math.floor((Date.now() - entry.storedAt) / 1000))]]);
          return { http: { headers }, body: { kind: 'single', singleResult: { data: entry.data } } };
        },
        async willSendResponse({ response, overallCachePolicy }) {
          if (served || key === undefined || response.body.kind !== 'single') return;
          const { data, errors } = response.body.singleResult;
          const policy = overallCachePolicy.policyIfCacheable();
          const stored = !errors?.length && data && policy && policy.scope !== 'PRIVATE' && cache.set(key, data, policy.maxAge, mark, tags);
          lookups.inc({ result: stored ? 'stored' : 'uncacheable' });
        },
      };
    },
  };
}
