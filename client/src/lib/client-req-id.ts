/**
 * The idempotency key of one checkout attempt (seed §15.6). placeOrder creates at most one order
 * per (user, clientReqId, preview): the key is generated once per attempt and reused on every
 * retry and double click of "Place order"; only a different preview (new prices, items, coupon or
 * address) starts a new attempt with a new key. Pure: storage and randomness are passed in.
 */

export interface CheckoutAttempt {
  previewId: string;
  clientReqId: string;
}

/** The attempt for this preview: the current one if it is for the same preview, else a fresh one. */
export function attemptFor(current: CheckoutAttempt | null, previewId: string, generate: () => string): CheckoutAttempt {
  if (current && current.previewId === previewId) return current;
  return { previewId, clientReqId: generate() };
}

/** Key format the order subgraph accepts: 1..64 of letters, digits and _ . : - */
export const CLIENT_REQ_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export const newClientReqId = (): string => `web-${crypto.randomUUID()}`;

/** Where the storefront keeps the attempt, so a reload or a retry after a lost answer reuses it. */
export interface AttemptStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const KEY = 'shop.checkout.attempt';

export function loadAttempt(store: AttemptStore): CheckoutAttempt | null {
  try {
    const raw = store.getItem(KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<CheckoutAttempt>;
    if (typeof parsed.previewId !== 'string' || typeof parsed.clientReqId !== 'string') return null;
    if (!CLIENT_REQ_ID_PATTERN.test(parsed.clientReqId)) return null;
    return { previewId: parsed.previewId, clientReqId: parsed.clientReqId };
  } catch {
    return null;
  }
}

/** The attempt for a preview, persisted: the same preview always gets the same key. */
export function attemptForPreview(store: AttemptStore, previewId: string, generate: () => string = newClientReqId): CheckoutAttempt {
  const attempt = attemptFor(loadAttempt(store), previewId, generate);
  store.setItem(KEY, JSON.stringify(attempt));
  return attempt;
}

/** After the order is placed the attempt is over. */
export function finishAttempt(store: AttemptStore): void {
  store.removeItem(KEY);
}
