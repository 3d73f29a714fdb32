import type { FormattedExecutionResult, GraphQLFormattedError } from 'graphql';
import type { Logger } from '@shop/kit';
import type { OrderEventHub, OrderNotice } from './order-events.js';
import { pushStream, type PushStream } from './push-stream.js';
import { VERSION_KEY, type RefetchQuery } from './refetch-query.js';

/**
 * Runs the refetch query through the gateway's own query path, as the subscriber. `shareKey`, when
 * given, names the event the read answers: identical reads for the same event may share one run.
 */
export type RunQuery = (refetch: RefetchQuery, correlationId: string, shareKey?: string) => Promise<FormattedExecutionResult>;

export interface OrderSubscriptionOptions {
  refetch: RefetchQuery;
  run: RunQuery;
  hub: OrderEventHub;
  /** Follows the first read; each later read carries the correlation id of the event that caused it. */
  correlationId: string;
  log: Logger;
  /** Called once when an opened subscription ends (client complete, disconnect or gateway stop). */
  onClose: () => void;
  /** Attempts of a read that failed inside the gateway or a subgraph (default 3). */
  attempts?: number;
  retryBaseMs?: number;
}

export type OpenedSubscription = { stream: PushStream<FormattedExecutionResult>; errors?: undefined } | { errors: GraphQLFormattedError[] };

type OrderData = Record<string, unknown> & { [VERSION_KEY]: number };

const INTERNAL: GraphQLFormattedError = { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };

const orderIn = (result: FormattedExecutionResult, key: string): OrderData | undefined => {
  const value = result.data?.[key] as Record<string, unknown> | null | undefined;
  return value && typeof value[VERSION_KEY] === 'number' ? (value as OrderData) : undefined;
};

/** The message a client receives: its own selection (the version read for de-duplication removed), plus any partial errors. */
const present = (result: FormattedExecutionResult, key: string, order: OrderData): FormattedExecutionResult => {
  const { [VERSION_KEY]: _version, ...selected } = order;
  return { data: { ...result.data, [key]: selected }, ...(result.errors?.length ? { errors: result.errors } : {}) };
};

const worthRetrying = (result: FormattedExecutionResult): boolean => !!result.errors?.some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR');

/**
 * One orderStatusChanged subscription. The listener is registered BEFORE the first read, so a change
 * that lands between the read and the registration is not lost; reads run one at a time, in order.
 * The first message is the order as it is now. Each later event triggers a read, and a message is
 * pushed only when the order read is newer than the last one pushed (an event whose version is not
 * newer is skipped without reading). Ownership is the `order(id)` query's: owner or admin.
 */
export async function openOrderSubscription(options: OrderSubscriptionOptions): Promise<OpenedSubscription> {
  const { refetch, run, hub, log } = options;
  const key = refetch.responseKey;
  const attempts = options.attempts ?? 3;
  const retryBaseMs = options.retryBaseMs ?? 250;
  let lastVersion = 0;
  let opened = false;
  let firstPushed!: () => void;
  let queue: Promise<void> = new Promise<void>((resolve) => (firstPushed = resolve));

  const stream = pushStream<FormattedExecutionResult>(() => {
    unlisten();
    if (opened) options.onClose();
  });

  const read = async (correlationId: string, shareKey?: string): Promise<FormattedExecutionResult> => {
    for (let attempt = 1; ; attempt += 1) {
      let result: FormattedExecutionResult;
      try {
        // Only a first attempt is shared: a retry must not join a read that just failed.
        result = await run(refetch, correlationId, attempt === 1 ? shareKey : undefined);
      } catch (err) {
        log.error({ err, correlationId, attempt }, 'subscription read failed');
        result = { data: null, errors: [INTERNAL] };
      }
      if (!worthRetrying(result) || attempt >= attempts || stream.closed) return result;
      await new Promise((resolve) => setTimeout(resolve, retryBaseMs * 2 ** (attempt - 1)));
    }
  };

  const refresh = async (notice: OrderNotice): Promise<void> => {
    if (stream.closed || (notice.version !== undefined && notice.version <= lastVersion)) return;
    // Reads for the same event version were started after that version committed: safe to share.
    const result = await read(notice.correlationId, notice.version === undefined ? undefined : `${refetch.orderId}@${notice.version}`);
    if (stream.closed) return;
    const order = orderIn(result, key);
    if (!order) {
      // The order could not be read (errors are passed on) or is no longer visible (nothing to say).
      if (result.errors?.length) stream.push({ data: null, errors: result.errors });
      return;
    }
    if (order[VERSION_KEY] <= lastVersion) return;
    lastVersion = order[VERSION_KEY];
    stream.push(present(result, key, order));
    log.debug({ orderId: refetch.orderId, version: lastVersion, correlationId: notice.correlationId }, 'subscription pushed');
  };

  const unlisten = hub.listen(refetch.orderId, (notice) => {
    if (notice.version !== undefined && notice.version <= lastVersion) return;
    queue = queue.then(() => refresh(notice)).catch((err: unknown) => log.error({ err, orderId: refetch.orderId }, 'subscription refresh failed'));
  });

  const first = await read(options.correlationId);
  const order = orderIn(first, key);
  if (!order) {
    await stream.return();
    firstPushed();
    const errors = first.errors?.length ? first.errors : [{ message: `There is no order ${refetch.orderId}`, extensions: { code: 'BAD_USER_INPUT' } }];
    return { errors: [...errors] };
  }
  lastVersion = order[VERSION_KEY];
  stream.push(present(first, key, order));
  opened = true;
  firstPushed();
  return { stream };
}
