import { translator, type Translate } from '../i18n/translate.js';
import { formatMoney } from './money.js';

/**
 * Turns GraphQL and network failures into sentences a shopper understands, in their language. Raw
 * error codes never reach the screen. Pure: used by the storefront and by its unit tests.
 */

/** How to word and format: the shopper's language (English by default). */
export interface Wording {
  t: Translate;
  money(value: { amount: number; currency: string }): string;
  date(iso: string): string;
}
const english: Wording = { t: translator('en'), money: (v) => formatMoney(v), date: (iso) => new Date(iso).toLocaleDateString('en', { dateStyle: 'medium' }) };

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

function stockMessage(error: ErrorLike, titles: SkuTitles, { t }: Wording): string {
  const shortages = Array.isArray(error.extensions?.shortages) ? error.extensions.shortages.filter(isShortage) : [];
  if (shortages.length === 0) return t('error.stockGeneric');
  const parts = shortages.map((s) => {
    const name = titles(s.skuId) ?? t('error.anItem');
    if (typeof s.available !== 'number') return name;
    return s.available <= 0 ? t('error.stockSoldOut', { name }) : t('error.stockOnly', { name, n: s.available });
  });
  return t('error.stock', { items: joinNames(parts, t('error.and')) });
}

const joinNames = (names: string[], and: string): string =>
  names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')}${and}${names[names.length - 1]}`;

/** A coupon the order subgraph refused (extensions.field "couponCode" with a reason), in the shopper's words; undefined for other errors. */
export function couponMessage(error: ErrorLike, code: string, wording: Wording = english): string | undefined {
  const ext = error.extensions;
  if (ext?.code !== 'BAD_USER_INPUT' || ext.field !== 'couponCode') return undefined;
  const { t } = wording;
  switch (ext.reason) {
    case 'UNKNOWN':
      return t('coupon.UNKNOWN', { code });
    case 'WRONG_CURRENCY':
      return t('coupon.WRONG_CURRENCY', { code, currency: String(ext.currency ?? '') });
    case 'NOT_YET_VALID':
      return t('coupon.NOT_YET_VALID', { code, date: wording.date(String(ext.validFrom)) });
    case 'EXPIRED':
      return t('coupon.EXPIRED', { code, date: wording.date(String(ext.validTo)) });
    case 'MIN_SPEND': {
      const min = ext.minSpend as { amount: number; currency: string } | undefined;
      return t('coupon.MIN_SPEND', { code, amount: min ? wording.money(min) : '' });
    }
    case 'LIMIT_REACHED': {
      const n = Number(ext.limit) || 1;
      return t('coupon.LIMIT_REACHED', { code, limit: n === 1 ? t('coupon.once') : t('coupon.times', { n }) });
    }
    default:
      return t('coupon.invalid', { code, reason: sentence(error.message, t) });
  }
}

const sentence = (text: string, t: Translate): string => {
  const trimmed = text.trim();
  if (trimmed === '') return t('error.badInput');
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
};

/** One error, one sentence. */
export function messageForError(error: ErrorLike, titles: SkuTitles = () => undefined, wording: Wording = english): string {
  const { t } = wording;
  const code = typeof error.extensions?.code === 'string' ? error.extensions.code : undefined;
  switch (code) {
    case 'STOCK_NOT_ENOUGH':
      return stockMessage(error, titles, wording);
    case 'PREVIEW_EXPIRED':
      return t('error.previewExpired');
    case 'UNAUTHENTICATED':
      return t('error.signIn');
    case 'FORBIDDEN':
      return t('error.forbidden');
    case 'BAD_USER_INPUT':
      return sentence(error.message, t);
    case 'FLASH_SALE_THROTTLED':
      return t('error.throttled');
    case 'RISK_REJECTED':
      return t('error.risk');
    case 'ORDER_STATE_INVALID':
      return t('error.orderState');
    case 'ORDER_ALREADY_EXISTS':
      return t('error.orderExists');
    case 'SERVICE_UNAVAILABLE':
      return t('error.unavailable');
    case 'PERSISTED_QUERY_NOT_FOUND':
    case 'PERSISTED_QUERY_NOT_ALLOWED':
    case 'GRAPHQL_VALIDATION_FAILED':
    case 'GRAPHQL_PARSE_FAILED':
      return t('error.outdated');
    default:
      return t('error.internal');
  }
}

/** The sentence for a failed call: the first GraphQL error decides; else the network failure. */
export function messageForFailure(failure: FailureLike, titles?: SkuTitles, wording: Wording = english): string {
  const first = failure.graphQLErrors?.[0];
  if (first) return messageForError(first, titles, wording);
  if (failure.status === 401) return wording.t('error.signIn');
  if (failure.networkError !== undefined && failure.networkError !== null) return wording.t('error.network');
  return wording.t('error.internal');
}

/** A failure a retry may cure: the network, or a service that did not answer. */
export function isRetryable(failure: FailureLike | undefined | null): boolean {
  if (!failure) return false;
  const code = errorCode(failure);
  if (code) return code === 'SERVICE_UNAVAILABLE' || code === 'INTERNAL_SERVER_ERROR';
  return failure.networkError !== undefined && failure.networkError !== null && failure.status !== 401;
}

/** The error code of a failure, for decisions (never for display). */
export function errorCode(failure: FailureLike | undefined | null): string | undefined {
  const code = failure?.graphQLErrors?.[0]?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}
