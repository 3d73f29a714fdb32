import type { CancelReason, OrderStatus } from '@shop/schema';
import { OrderStatus as ORDER_STATUSES } from '@shop/schema';
import {
  DomainError,
  ErrorCode,
  applyTransition,
  applyTransitions,
  defineMachine,
  lockRow,
  type EntityManager,
  type Selectable,
  type StoredMachine,
  type TransitionRequest,
  dbNow,
} from '@shop/kit';
import type { Db } from '../persistence.js';
import { orderEventRow } from './order-events.js';

export type { CancelReason, OrderStatus };
export type OrderRow = Selectable<Db['orders']>;

/** The order state machine as data: from → the statuses it may move to. */
export const ORDER_TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  CREATED: ['REVIEW', 'PENDING_PAYMENT', 'CANCELED'],
  // A high-risk order with its stock held waits for an admin: approve → PENDING_PAYMENT, reject → CANCELED (RISK_REJECTED).
  REVIEW: ['PENDING_PAYMENT', 'CANCELED'],
  PENDING_PAYMENT: ['PAID', 'CANCELED'],
  PAID: ['SHIPPED', 'REFUNDED'],
  SHIPPED: ['COMPLETED', 'REFUNDED'],
  // A refund approved after delivery still ends REFUNDED (the refund policy in refunds.ts).
  COMPLETED: ['REFUNDED'],
  CANCELED: [],
  REFUNDED: [],
};

/** A cancel reason is required exactly when the target is CANCELED (the table's CHECK says the same). */
export const orderMachine = defineMachine<OrderStatus, { reason: CancelReason | null }>({
  name: 'order',
  states: ORDER_STATUSES,
  transitions: ORDER_TRANSITIONS,
  guards: [
    ({ to }, { reason }) =>
      (to === 'CANCELED') === (reason !== null) ? null : to === 'CANCELED' ? 'a cancel needs a reason' : `a reason (${reason}) fits only a cancel`,
  ],
  refuse: (message, { from, to }) => new DomainError(ErrorCode.ORDER_STATE_INVALID, message, { from, to }),
});

export const canTransition = (from: OrderStatus, to: OrderStatus): boolean => orderMachine.can(from, to);
export const isTerminal = (status: OrderStatus): boolean => orderMachine.isTerminal(status);
export const assertTransition = (from: OrderStatus, to: OrderStatus): void =>
  orderMachine.check(from, to, { reason: to === 'CANCELED' ? 'USER_CANCELED' : null }, 'an order');

export interface OrderMoveFacts {
  reason: CancelReason | null;
  correlationId: string;
  /** Extra facts for the audit row (payment id, refund id, ...). */
  audit?: Record<string, unknown>;
  /** For REFUNDED: whether sold stock goes back to available. */
  restock?: boolean;
  /** For REFUNDED of a partly shipped order: the stopped quantities that go back to available. */
  restockItems?: { skuId: string; warehouseId: string; qty: number }[];
}

/** Where an order's status lives; every move is audited in order_event and announced as order.status-changed. */
const storedOrder: StoredMachine<Db, 'orders', OrderStatus, OrderMoveFacts> = {
  machine: orderMachine,
  table: 'orders',
  key: 'id',
  status: 'status',
  version: 'version',
  touch: () => ({ updated_at: dbNow() }),
  // Written with the move and its event in one statement (kit apply.ts).
  auditRow: ({ id, from, to, after }, facts) => ({
    table: 'order_event',
    values: orderEventRow({ orderId: id, type: `ORDER_${to}`, from, to, version: after.version, payload: { reason: facts.reason, ...facts.audit } }),
  }),
  event: ({ id, from, to, after }, facts) => ({
    type: 'order.status-changed',
    aggregateId: id,
    correlationId: facts.correlationId,
    payload: {
      orderId: id,
      userId: after.user_id,
      from,
      to,
      reason: facts.reason,
      version: after.version,
      ...(facts.restock === undefined ? {} : { restock: facts.restock }),
      ...(facts.restockItems === undefined ? {} : { restockItems: facts.restockItems }),
    },
  }),
};

export interface TransitionOptions extends Omit<OrderMoveFacts, 'reason'> {
  reason?: CancelReason | null;
  /** Only move when the order is in one of these statuses; otherwise answer without a change. */
  onlyFrom?: readonly OrderStatus[];
  /** The order as lockOrder read it in this transaction (saves reading it again). */
  locked?: OrderRow;
  /** The order as its placement wrote it, not locked: the move is tried against it without the lock (kit apply.ts). */
  expected?: OrderRow;
  /** A write that goes into the move's statement (kit apply.ts): idempotent, it may run twice. */
  alongside?: TransitionRequest<Db, 'orders', OrderStatus, OrderMoveFacts>['alongside'];
  /** The order's SKUs, when the caller knows them (from its event): the move's hooks need not read them. */
  skuIds?: readonly string[];
}

/** Locks an order's row for a move in this transaction; undefined when there is none. */
export const lockOrder = (tx: EntityManager, orderId: string): Promise<OrderRow | undefined> => lockRow(tx, storedOrder, orderId);

export type TransitionResult = { changed: boolean; order: OrderRow };

/** Work that follows every move of an order inside its transaction (the flash-sale admission's, flash-sale.ts). */
export type OrderMoveHook = (tx: EntityManager, order: OrderRow, to: OrderStatus, known: { skuIds?: readonly string[] }) => Promise<void>;
const moveHooks = new Set<OrderMoveHook>();
export const afterOrderMove = (hook: OrderMoveHook): void => void moveHooks.add(hook);

/**
 * Moves an order through the kit's one apply function: lock, check the table and the reason
 * guard, bump the version, audit, emit order.status-changed, all in the caller's transaction.
 * With `onlyFrom`, an order in another status is left alone (idempotent event handling); without
 * it, an illegal move is ORDER_STATE_INVALID.
 */
export async function moveOrder(tx: EntityManager, orderId: string, to: OrderStatus, options: TransitionOptions): Promise<TransitionResult> {
  const [result] = await moveOrders(tx, [{ orderId, to, options }]);
  return result!;
}

/** One order's move for moveOrders: as moveOrder's arguments. */
export interface OrderMove {
  orderId: string;
  to: OrderStatus;
  options: TransitionOptions;
}

/**
 * Moves many orders as moveOrder moves each, answered in order: the moves from a row the caller
 * expects go to the database together (kit applyTransitions), the others one by one.
 */
export async function moveOrders(tx: EntityManager, moves: readonly OrderMove[]): Promise<TransitionResult[]> {
  const requests = moves.map(({ orderId, to, options }) => {
    const reason = options.reason ?? null;
    const { locked, expected, alongside, skuIds: _skuIds, ...facts } = options;
    return { id: orderId, to, onlyFrom: options.onlyFrom, locked, expected, alongside, facts: { ...facts, reason }, set: { cancel_reason: reason } };
  });
  const applied = await (requests.length === 1 ? Promise.all([applyTransition(tx, storedOrder, requests[0]!)]) : applyTransitions(tx, storedOrder, requests));
  const results: TransitionResult[] = [];
  for (const [i, { changed, row }] of applied.entries()) {
    if (changed) for (const hook of moveHooks) await hook(tx, row, moves[i]!.to, { skuIds: moves[i]!.options.skuIds });
    results.push({ changed, order: row });
  }
  return results;
}
