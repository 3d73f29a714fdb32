/**
 * Turns GraphQL and network failures into sentences a shopper understands. Raw error codes never
 * reach the screen. Pure: used by the storefront and by its unit tests.
 */

/** The part of a GraphQL error the mapping needs (urql's GraphQLError and the SDK's errors fit). */
export interface ErrorLike {
  message: string;
  extensions?: { code?: unknown; shortages?: unknown; [key: string]: unknown } | undefined;
}

/** What went wrong with a call: GraphQL errors, a network failure, or both. */
export interface FailureLike {
  graphQLErrors?: readonly ErrorLike[];
  networkError?: unknown;
  /** HTTP status of a failed response, when known. */
  status?: number;
}

/** Names SKUs in stock messages; return undefined when the title is unknown. */
export type SkuTitles = (skuId: string) => string | undefined;

interface Shortage {
  skuId: string;
  requested?: number;
  available?: number;
}

const isShortage = (value: unknown): value is Shortage =>
  typeof value === 'object' && value !== null && typeof (value as { skuId?: unknown }).skuId === 'string';

function stockMessage(error: ErrorLike, titles: SkuTitles): string {
  const shortages = Array.isArray(error.extensions?.shortages) ? error.extensions.shortages.filter(isShortage) : [];
  if (shortages.length === 0) return 'Sorry, not enough stock left for one of the items in your order.';
  const parts = shortages.map((s) => {
    const name = titles(s.skuId) ?? 'an item';
    if (typeof s.available !== 'number') return name;
    return s.available <= 0 ? `${name} (sold out)` : `${name} (only ${s.available} left)`;
  });
  return `Sorry, not enough stock left for ${joinNames(parts)}.`;
}

const joinNames = (names: string[]): string => (names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`);

const sentence = (text: string): string => {
  const trimmed = text.trim();
  if (trimmed === '') return 'Something is wrong with what you entered.';
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
};

/** One error, one sentence. */
export function messageForError(error: ErrorLike, titles: SkuTitles = () => undefined): string {
  const code = typeof error.extensions?.code === 'string' ? error.extensions.code : undefined;
  switch (code) {
    case 'STOCK_NOT_ENOUGH':
      return stockMessage(error, titles);
    case 'PREVIEW_EXPIRED':
      return 'Prices changed, please review your order again.';
    case 'UNAUTHENTICATED':
      return 'Please sign in.';
    case 'FORBIDDEN':
      return 'Sorry, you are not allowed to do that.';
    case 'BAD_USER_INPUT':
      return sentence(error.message);
    case 'FLASH_SALE_THROTTLED':
      return 'So many people are buying this right now. Please try again in a moment.';
    case 'RISK_REJECTED':
      return 'Sorry, we could not accept this order. Please contact customer service if you think this is a mistake.';
    case 'ORDER_STATE_INVALID':
      return 'This order has changed in the meantime and can no longer do that. Please check its current status.';
    case 'ORDER_ALREADY_EXISTS':
      return 'This order was already placed. Please check your orders.';
    case 'PERSISTED_QUERY_NOT_FOUND':
    case 'PERSISTED_QUERY_NOT_ALLOWED':
    case 'GRAPHQL_VALIDATION_FAILED':
    case 'GRAPHQL_PARSE_FAILED':
      return 'This page is out of date. Please reload it.';
    default:
      return 'Sorry, something went wrong on our side. Please try again.';
  }
}

/** The sentence for a failed call: the first GraphQL error decides; else the network failure. */
export function messageForFailure(failure: FailureLike, titles?: SkuTitles): string {
  const first = failure.graphQLErrors?.[0];
  if (first) return messageForError(first, titles);
  if (failure.status === 401) return 'Please sign in.';
  if (failure.networkError !== undefined && failure.networkError !== null) {
    return 'We cannot reach the shop right now. Please check your connection and try again.';
  }
  return 'Sorry, something went wrong on our side. Please try again.';
}

/** The error code of a failure, for decisions (never for display). */
export function errorCode(failure: FailureLike | undefined | null): string | undefined {
  const code = failure?.graphQLErrors?.[0]?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}
