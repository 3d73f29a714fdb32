import { envInt, envString } from '@shop/kit';

/** The payment-service provider's merchant API (the simulator in infra/src/psp-simulator). */
export const pspUrl = (): string => envString('PSP_URL', 'http://127.0.0.1:4010').replace(/\/+$/, '');

/** The provider did not answer (down, timeout, 5xx): safe to retry, every call is idempotent. */
export class PspUnavailableError extends Error {}

/** The provider refused the request (4xx): retrying the same request will not help. */
export class PspRejectedError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const timeoutMs = envInt('PSP_TIMEOUT_MS', 5000);
  let response: Response;
  try {
    response = await fetch(`${pspUrl()}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new PspUnavailableError(`the payment provider is unreachable (${method} ${path}): ${error instanceof Error ? error.message : String(error)}`);
  }
  const text = await response.text();
  if (response.status >= 500) throw new PspUnavailableError(`the payment provider answered ${response.status} to ${method} ${path}`);
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    throw new PspUnavailableError(`the payment provider answered ${method} ${path} with a body that is not JSON`);
  }
  if (!response.ok) {
    const message = (parsed as { error?: string } | undefined)?.error ?? `HTTP ${response.status}`;
    throw new PspRejectedError(`the payment provider refused ${method} ${path}: ${message}`, response.status);
  }
  return parsed as T;
}

export interface Intent {
  intentId: string;
  paymentTxnId: string;
  merchantRef: string;
  amount: number;
  currency: string;
  status: string;
  checkoutUrl: string;
}

export interface CreateIntentRequest {
  /** Our paymentId: the provider's idempotency key, so a retry returns the same intent. */
  merchantRef: string;
  orderId: string;
  amount: number;
  currency: string;
  callbackUrl: string;
  returnUrl: string;
}

export const createIntent = (request: CreateIntentRequest): Promise<Intent> => call<Intent>('POST', '/v1/intents', request);

export interface ProviderRefund {
  refundId: string;
  refundRef: string;
  paymentTxnId: string;
  amount: number;
  currency: string;
  status: string;
  transactionStatus: string;
}

/** Idempotent on refundRef (our refund id): a retry returns the refund already made. */
export const requestRefund = (request: { paymentTxnId: string; amount: number; currency: string; refundRef: string }): Promise<ProviderRefund> =>
  call<ProviderRefund>('POST', '/v1/refunds', request);

export interface LedgerTransaction {
  intentId: string;
  paymentTxnId: string;
  paymentId: string;
  orderId: string;
  amount: number;
  currency: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'REFUNDED';
  createdAt: string;
  updatedAt: string;
  refunded: number;
}

/** The provider's transactions whose life overlaps [from, to]. */
export async function ledger(from: Date, to: Date): Promise<LedgerTransaction[]> {
  const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  return (await call<{ transactions: LedgerTransaction[] }>('GET', `/admin/transactions?${query.toString()}`)).transactions;
}
