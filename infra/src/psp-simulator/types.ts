/** The simulator's records. Amounts are integers in minor units, never floats. */
export type TxnStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'REFUNDED';
export type CallbackStatus = 'SUCCEEDED' | 'FAILED' | 'REFUNDED';

export interface Refund {
  refundId: string;
  /** The merchant's refund id (our refundId): the idempotency key. */
  refundRef: string;
  paymentTxnId: string;
  amount: number;
  currency: string;
  status: 'SUCCEEDED';
  createdAt: string;
}

/** One payment intent and its transaction: a single paymentTxnId for its whole life. */
export interface Transaction {
  intentId: string;
  paymentTxnId: string;
  /** The merchant's payment id (our paymentId): the idempotency key of intent creation. */
  paymentId: string;
  orderId: string;
  amount: number;
  currency: string;
  status: TxnStatus;
  callbackUrl: string;
  returnUrl?: string;
  createdAt: string;
  updatedAt: string;
  refunds: Refund[];
}

/** Exactly the callback body of CONTRACT.md. */
export interface CallbackBody {
  eventId: string;
  paymentTxnId: string;
  paymentId: string;
  status: CallbackStatus;
  amount: number;
  currency: string;
  occurredAt: string;
}

export type EventState = 'PENDING' | 'DELIVERED' | 'DROPPED' | 'EXHAUSTED';

/** A callback to deliver; every copy and retry of it carries the same body (re-signed each time). */
export interface OutboundEvent {
  body: CallbackBody;
  callbackUrl: string;
  state: EventState;
}

export interface DeliveryAttempt {
  eventId: string;
  paymentTxnId: string;
  paymentId: string;
  status: CallbackStatus;
  /** 1..N when the duplicate fault sends N copies. */
  copy: number;
  attempt: number;
  url: string;
  outcome: 'DELIVERED' | 'FAILED' | 'DROPPED' | 'GAVE_UP';
  httpStatus?: number;
  error?: string;
  nextRetryInMs?: number;
  at: string;
}
