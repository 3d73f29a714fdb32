import { useState, type ReactNode } from 'react';
import type { CombinedError } from 'urql';
import type { OrderStatus } from '../gql/graphql';
import { messageForFailure, type SkuTitles } from '../lib/error-messages';
import { formatMoney, type MoneyLike } from '../lib/money';
import { Link } from '../router';
import { useSession } from '../session';

export function Money({ value }: { value: MoneyLike }) {
  return <span className="money">{formatMoney(value)}</span>;
}

/** A failure as a sentence for the shopper (never a raw code), announced to screen readers. */
export function ErrorAlert({ error, titles }: { error: CombinedError | string | null | undefined; titles?: SkuTitles }) {
  if (!error) return null;
  const text =
    typeof error === 'string'
      ? error
      : messageForFailure({ graphQLErrors: error.graphQLErrors, networkError: error.networkError, status: statusOf(error) }, titles);
  return (
    <p role="alert" className="alert">
      {text}
      {text === 'Please sign in.' ? (
        <>
          {' '}
          <Link to="/sign-in">Sign in</Link>
        </>
      ) : null}
    </p>
  );
}

const statusOf = (error: CombinedError): number | undefined => {
  const response = error.response as { status?: unknown } | undefined;
  return typeof response?.status === 'number' ? response.status : undefined;
};

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      {label}
    </p>
  );
}

export const STATUS_LABEL: Record<OrderStatus, string> = {
  CREATED: 'Placed, reserving stock',
  REVIEW: 'Being reviewed',
  PENDING_PAYMENT: 'Waiting for payment',
  PAID: 'Paid',
  SHIPPED: 'Shipped',
  COMPLETED: 'Completed',
  CANCELED: 'Canceled',
  REFUNDED: 'Refunded',
};

export function StatusBadge({ status }: { status: OrderStatus }) {
  return (
    <span className={`badge badge-${status.toLowerCase()}`} data-status={status}>
      {STATUS_LABEL[status]}
    </span>
  );
}

/** Pages that need a signed-in shopper show a sign-in prompt instead of an error. */
export function RequireSignIn({ children }: { children: ReactNode }) {
  const { session } = useSession();
  if (!session) {
    return (
      <section className="card">
        <h1>Please sign in</h1>
        <p>
          You need to <Link to="/sign-in">sign in</Link> to see this page.
        </p>
      </section>
    );
  }
  return <>{children}</>;
}

export const formatDateTime = (iso: string): string => new Date(iso).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' });

export const shortId = (id: string): string => id.slice(-8).toUpperCase();

/** The "Load more" row after the last loaded page of a cursor-paginated list. */
export function LoadMore({ pageInfo, onLoadMore }: { pageInfo: { hasNextPage: boolean; endCursor?: string | null }; onLoadMore(cursor: string): void }) {
  const { hasNextPage, endCursor } = pageInfo;
  if (!hasNextPage || !endCursor) return null;
  return (
    <li className="load-more">
      <button type="button" onClick={() => onLoadMore(endCursor)}>
        Load more
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
