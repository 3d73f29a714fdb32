import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { CombinedError } from 'urql';
import { useI18n } from '../i18n/i18n';
import type { MessageKey } from '../i18n/messages';
import { isRetryable, messageForFailure, type SkuTitles, type Wording } from '../lib/error-messages';
import type { MoneyLike } from '../lib/money';
import { Link, currentPath, takeFocusRequest } from '../router';
import { useSession } from '../session';

export function Money({ value }: { value: MoneyLike }) {
  const { money } = useI18n();
  return <span className="money">{money(value)}</span>;
}

/** The shopper's language for error sentences. */
export function useWording(): Wording {
  const { t, money, locale } = useI18n();
  return useMemo(
    () => ({ t, money, date: (iso: string) => new Date(iso).toLocaleDateString(locale === 'zh' ? 'zh-CN' : 'en', { dateStyle: 'medium' }) }),
    [t, money, locale],
  );
}

const statusOf = (error: CombinedError): number | undefined => {
  const response = error.response as { status?: unknown } | undefined;
  return typeof response?.status === 'number' ? response.status : undefined;
};

/**
 * A failure as a sentence for the shopper (never a raw code), announced to screen readers; with
 * "Try again" when a retry may help (the network, a service that did not answer) and onRetry is given.
 */
export function ErrorAlert({ error, titles, onRetry }: { error: CombinedError | string | null | undefined; titles?: SkuTitles; onRetry?: () => void }) {
  const wording = useWording();
  if (!error) return null;
  const failure = typeof error === 'string' ? null : { graphQLErrors: error.graphQLErrors, networkError: error.networkError, status: statusOf(error) };
  const text = typeof error === 'string' ? error : messageForFailure(failure!, titles, wording);
  return (
    <div role="alert" className="alert">
      <span>{text}</span>
      {onRetry && isRetryable(failure) ? (
        <button type="button" className="secondary small-button" onClick={onRetry}>
          {wording.t('common.retry')}
        </button>
      ) : null}
    </div>
  );
}

export function Loading({ label }: { label?: string }) {
  const { t } = useI18n();
  return (
    <p className="muted" role="status" aria-live="polite">
      {label ?? t('common.loading')}
    </p>
  );
}

/**
 * The page's h1: sets the tab title, and takes the keyboard focus after a navigation so screen
 * readers announce the new page (not on the first load).
 */
export function PageHeading({ children, title }: { children: ReactNode; title?: string }) {
  const { t } = useI18n();
  const ref = useRef<HTMLHeadingElement>(null);
  const text = title ?? (typeof children === 'string' ? children : '');
  useEffect(() => {
    document.title = text ? `${text} · ${t('app.name')}` : t('app.name');
  }, [text, t]);
  useEffect(() => {
    if (takeFocusRequest()) ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

export const ORDER_STATUSES = ['CREATED', 'REVIEW', 'PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED', 'CANCELED', 'REFUNDED'] as const;

export function StatusBadge({ status }: { status: string }) {
  const { t } = useI18n();
  return (
    <span className={`badge badge-${status.toLowerCase()}`} data-status={status}>
      {t(`status.${status}` as MessageKey)}
    </span>
  );
}

export const signInPath = (next = currentPath()): string => `/sign-in?next=${encodeURIComponent(next)}`;

/** Pages that need a signed-in shopper show a sign-in prompt (that comes back here) instead of an error. */
export function RequireSignIn({ children }: { children: ReactNode }) {
  const { session } = useSession();
  const { t } = useI18n();
  if (!session) {
    return (
      <section className="card">
        <PageHeading>{t('common.signInFirst')}</PageHeading>
        <p>
          {t('common.signInToSee')} <Link to={signInPath()}>{t('common.signInLink')}</Link>
        </p>
      </section>
    );
  }
  return <>{children}</>;
}

export const shortId = (id: string): string => id.slice(-8).toUpperCase();

/** The "Load more" row after the last loaded page of a cursor-paginated list. */
export function LoadMore({ pageInfo, onLoadMore }: { pageInfo: { hasNextPage: boolean; endCursor?: string | null }; onLoadMore(cursor: string): void }) {
  const { t } = useI18n();
  const { hasNextPage, endCursor } = pageInfo;
  if (!hasNextPage || !endCursor) return null;
  return (
    <li className="load-more">
      <button type="button" onClick={() => onLoadMore(endCursor)}>
        {t('catalog.loadMore')}
      </button>
    </li>
  );
}

/**
 * The cursors of the pages loaded so far of a list filtered by `filter` (a search, a status): a new
 * filter starts again from the first page.
 */
export function useCursorPages<F>(filter: F): [cursors: (string | null)[], loadMore: (cursor: string) => void] {
  const [pages, setPages] = useState<{ filter: F; cursors: (string | null)[] }>({ filter, cursors: [null] });
  const cursors = Object.is(pages.filter, filter) ? pages.cursors : [null];
  return [cursors, (cursor) => setPages({ filter, cursors: [...cursors, cursor] })];
}

/** A product picture (demo images are served with the storefront), or a neutral placeholder. */
export function ProductImage({ images, title, className }: { images: readonly string[]; title: string; className?: string }) {
  const { t } = useI18n();
  const src = images[0] ?? '/images/products/placeholder.svg';
  return (
    <img className={className ?? 'product-image'} src={src} alt={images[0] ? t('product.image', { title }) : ''} width={400} height={300} loading="lazy" />
  );
}

/** Re-runs `tick` every intervalMs while the tab is visible (and once when it becomes visible again). */
export function usePolling(tick: () => void, intervalMs: number, enabled = true): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (!enabled) return;
    const run = () => {
      if (document.visibilityState === 'visible') latest.current();
    };
    const timer = window.setInterval(run, intervalMs);
    document.addEventListener('visibilitychange', run);
    window.addEventListener('focus', run);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', run);
      window.removeEventListener('focus', run);
    };
  }, [intervalMs, enabled]);
}

/** A wide table that scrolls sideways on small screens; focusable, so keyboard users can scroll it too. */
export function TableScroll({ children }: { children: ReactNode }) {
  return (
    <div className="table-scroll" tabIndex={0}>
      {children}
    </div>
  );
}
