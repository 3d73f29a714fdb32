import { rawSql, type EntityManager } from '@shop/kit';
import { needsBlocklist, windowsNeeded, type BlockKind, type Dimension, type RiskObservations, type RiskRule } from './rules.js';

/** One order attempt as risk control sees it. deviceId and ip are null when the gateway did not forward them. */
export interface RiskSubject {
  userId: string;
  deviceId?: string | null;
  ip?: string | null;
  /** Minor units. */
  payable: number;
  currency: string;
}

const COLUMN: Record<Dimension, string> = { user: 'user_id', ip: 'client_ip', device: 'device_id' };

/**
 * Gathers what the rules need in one round trip: the subject's orders in each window an enabled
 * rule counts (orders.created_at, on the (column, created_at) indexes) and its blocklist entries.
 * Counts include every order placed in the window, canceled ones too: brushing is about attempts.
 */
export async function gatherObservations(em: EntityManager, subject: RiskSubject, rules: readonly RiskRule[]): Promise<RiskObservations> {
  const deviceId = subject.deviceId ?? null;
  const ip = subject.ip ?? null;
  const valueOf: Record<Dimension, string | null> = { user: subject.userId, ip, device: deviceId };
  const windows = windowsNeeded(rules).filter((w) => valueOf[w.dimension] !== null);
  const selects: string[] = [];
  const params: unknown[] = [];
  windows.forEach((w, i) => {
    selects.push(`(SELECT count(*) FROM orders WHERE ${COLUMN[w.dimension]} = ? AND created_at > now() - ? * interval '1 second') AS "w${i}"`);
    params.push(valueOf[w.dimension], w.windowSeconds);
  });
  if (needsBlocklist(rules)) {
    selects.push(`(SELECT coalesce(json_agg(json_build_object('kind', kind, 'value', value, 'reason', reason) ORDER BY kind), '[]'::json) FROM risk_blocklist
      WHERE (kind = 'USER' AND value = ?) OR (kind = 'DEVICE' AND value = ?) OR (kind = 'IP' AND value = ?)) AS blocked`);
    params.push(subject.userId, deviceId, ip);
  }
  const row = selects.length ? await rawSql(em).one<Record<string, unknown>>(`SELECT ${selects.join(', ')}`, params) : undefined;
  const orders: RiskObservations['orders'] = { user: {}, ip: {}, device: {} };
  windows.forEach((w, i) => {
    orders[w.dimension][w.windowSeconds] = Number(row?.[`w${i}`] ?? 0);
  });
  const blocked = (row?.blocked ?? []) as { kind: BlockKind; value: string; reason: string }[];
  return { userId: subject.userId, deviceId, ip, payable: subject.payable, currency: subject.currency, orders, blocked };
}
