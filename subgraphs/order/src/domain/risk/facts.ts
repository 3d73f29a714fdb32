import { idFloor, jsonArrayFrom, type EntityManager, type Expression, type ExpressionBuilder, type SqlBool, dbSecondsAgo } from '@shop/kit';
import { db, type Db } from '../../persistence.js';
import { DIMENSION_OF, isVelocity, needsBlocklist, windowsNeeded, type BlockKind, type Dimension, type RiskObservations, type RiskRule } from './rules.js';

/** One order attempt as risk control sees it. deviceId and ip are null when the gateway did not forward them. */
export interface RiskSubject {
  userId: string;
  deviceId?: string | null;
  ip?: string | null;
  /** Minor units. */
  payable: number;
  currency: string;
}

/** Who the rules read about: the subject without its order's amount. */
export type Observed = Pick<RiskSubject, 'userId' | 'deviceId' | 'ip'>;

const COLUMN = { user: 'user_id', ip: 'client_ip', device: 'device_id' } as const satisfies Record<Dimension, string>;

/**
 * How much earlier than the window the id bound of a count starts. An order id is its creation time
 * on the order process's clock (UUIDv7) and created_at is the database's, so the bound allows a day
 * of difference between the two: it never leaves out an order the window counts.
 */
const ID_BOUND_MARGIN_MS = 86_400_000;

/**
 * The order ids a count over the last `windowSeconds` can meet, [floor, ceiling): with them the count
 * reads only the partitions of the window (orders are partitioned by id, README "Partitions"), not
 * one index probe per partition of the whole history and of the weeks created ahead.
 */
export const windowIds = (windowSeconds: number, now = Date.now()): { floor: string; ceiling: string } => ({
  floor: idFloor('ord', new Date(now - windowSeconds * 1000 - ID_BOUND_MARGIN_MS)),
  ceiling: idFloor('ord', new Date(now + ID_BOUND_MARGIN_MS)),
});

/** What the rules read about the subject: the order windows they count (for the dimensions it has) and whether the blocklist. */
function readsOf(subject: Observed, rules: readonly RiskRule[]) {
  const deviceId = subject.deviceId ?? null;
  const ip = subject.ip ?? null;
  const valueOf: Record<Dimension, string | null> = { user: subject.userId, ip, device: deviceId };
  const windows = windowsNeeded(rules).filter((w) => valueOf[w.dimension] !== null);
  return { deviceId, ip, valueOf, windows, blocklist: needsBlocklist(rules) };
}

/** The subject's orders in one window (orders.created_at, on the (column, created_at) indexes), as a scalar subquery. */
const windowCount = (eb: ExpressionBuilder<Db, never>, dimension: Dimension, value: string | null, windowSeconds: number) =>
  eb
    .selectFrom('orders')
    .select((c) => c.fn.countAll<string>().as('n'))
    .where(COLUMN[dimension], '=', value)
    .where('id', '>=', windowIds(windowSeconds).floor)
    .where('id', '<', windowIds(windowSeconds).ceiling)
    .where('created_at', '>', dbSecondsAgo(windowSeconds));

/** The subject's blocklist entries (by user, device or IP). */
const blocklistEntries = (eb: ExpressionBuilder<Db, never>, subject: Observed) =>
  eb
    .selectFrom('risk_blocklist')
    .select(['kind', 'value', 'reason'])
    .where((b) =>
      b.or([
        b.and([b('kind', '=', 'USER'), b('value', '=', subject.userId)]),
        b.and([b('kind', '=', 'DEVICE'), b('value', '=', subject.deviceId ?? null)]),
        b.and([b('kind', '=', 'IP'), b('value', '=', subject.ip ?? null)]),
      ]),
    );

/**
 * The select list that reads what the rules need about the subject (none when they need nothing):
 * the subject's orders in each window an enabled rule counts and its blocklist entries. Counts
 * include every order placed in the window, canceled ones too: brushing is about attempts.
 * placeOrder adds it to the statement that reads the price copy (placement.ts), gatherObservations
 * runs it alone; observationsOf reads the answer.
 */
export function observationColumns(eb: ExpressionBuilder<Db, never>, subject: Observed, rules: readonly RiskRule[]) {
  const { valueOf, windows, blocklist } = readsOf(subject, rules);
  return [
    ...windows.map((w, i) => windowCount(eb, w.dimension, valueOf[w.dimension], w.windowSeconds).as(`w${i}`)),
    ...(blocklist ? [jsonArrayFrom(blocklistEntries(eb, subject).orderBy('kind')).as('blocked')] : []),
  ];
}

/**
 * The conditions under which no enabled rule that reads the database hits the subject: each counted
 * window below the smallest limit of its rules, and no blocklist entry when the blocklist rule is on.
 * With the rules that read nothing passing too (assessObserved on no observations says ALLOW), they
 * hold exactly when the assessment is ALLOW: placeOrder's one-statement placement writes only under
 * them (placement.ts), in the statement's own snapshot.
 */
export function passingConditions(eb: ExpressionBuilder<Db, never>, subject: Observed, rules: readonly RiskRule[]): Expression<SqlBool>[] {
  const { valueOf, blocklist } = readsOf(subject, rules);
  const limits = new Map<string, { dimension: Dimension; windowSeconds: number; max: number }>();
  for (const rule of rules) {
    if (!rule.enabled || !isVelocity(rule) || valueOf[DIMENSION_OF[rule.kind]] === null) continue;
    const dimension = DIMENSION_OF[rule.kind];
    const key = `${dimension}:${rule.params.windowSeconds}`;
    const max = Math.min(limits.get(key)?.max ?? Infinity, rule.params.max);
    limits.set(key, { dimension, windowSeconds: rule.params.windowSeconds, max });
  }
  return [
    ...[...limits.values()].map((l) => eb(windowCount(eb, l.dimension, valueOf[l.dimension], l.windowSeconds), '<', String(l.max))),
    ...(blocklist ? [eb.not(eb.exists(blocklistEntries(eb, subject)))] : []),
  ];
}

/** The observations from the row observationColumns answered (undefined: the rules read nothing). */
export function observationsOf(row: Record<string, unknown> | undefined, subject: RiskSubject, rules: readonly RiskRule[]): RiskObservations {
  const { deviceId, ip, windows } = readsOf(subject, rules);
  const orders: RiskObservations['orders'] = { user: {}, ip: {}, device: {} };
  windows.forEach((w, i) => {
    orders[w.dimension][w.windowSeconds] = Number(row?.[`w${i}`] ?? 0);
  });
  const blocked = (row?.blocked ?? []) as { kind: BlockKind; value: string; reason: string }[];
  return { userId: subject.userId, deviceId, ip, payable: subject.payable, currency: subject.currency, orders, blocked };
}

/** Gathers what the rules need in one round trip (none when they read nothing): observationColumns, then observationsOf. */
export async function gatherObservations(em: EntityManager, subject: RiskSubject, rules: readonly RiskRule[]): Promise<RiskObservations> {
  const reads = readsOf(subject, rules);
  const row =
    reads.windows.length > 0 || reads.blocklist
      ? await db(em)
          .selectNoFrom((eb) => observationColumns(eb, subject, rules))
          .executeTakeFirst()
      : undefined;
  return observationsOf(row as Record<string, unknown> | undefined, subject, rules);
}
