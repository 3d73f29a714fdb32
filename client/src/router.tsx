import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/**
 * A tiny path router over the History API (no dependency). Paths, not hashes: the payment
 * provider sends shoppers back to STOREFRONT_URL/orders/<id>, and Vite serves index.html for them.
 */
const NAVIGATE = 'shop:navigate';

const onPopState = () => {
  focusPending = true;
};

const subscribe = (onChange: () => void) => {
  window.addEventListener('popstate', onPopState);
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE, onChange);
  return () => {
    window.removeEventListener('popstate', onPopState);
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE, onChange);
  };
};

export const currentPath = (): string => window.location.pathname + window.location.search;
const snapshot = () => window.location.pathname + window.location.search;

/** Set by a navigation, taken by the next page heading that mounts (PageHeading focuses itself). */
let focusPending = false;
export const takeFocusRequest = (): boolean => {
  const pending = focusPending;
  focusPending = false;
  return pending;
};

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  focusPending = true;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.scrollTo(0, 0);
  window.dispatchEvent(new Event(NAVIGATE));
}

export interface Location {
  path: string;
  query: URLSearchParams;
}

export function useLocation(): Location {
  const current = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(current, 'http://storefront');
  return { path: url.pathname, query: url.searchParams };
}

/** Matches "/orders/:id" against a path; returns the params or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const h = have[i]!;
    if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(h);
    else if (w !== h) return null;
  }
  return params;
}

export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handle} {...rest} />;
}
