import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { newId, openDatabase } from '@shop/kit';
import { admin, callSubgraph, errorCode, user, sql } from '@shop/kit/testing';
import { database } from '../../persistence.js';
import { start } from '../../index.js';
import { assessRisk, forgetCachedRules, recordRiskDecision, riskFacts, riskRejected } from './index.js';

process.env.RISK_RULES_TTL_MS = '0';

let orm: MikroORM;
let server: { url: string; stop(): Promise<void> };
const testRules: string[] = [];

beforeAll(async () => {
  orm = await openDatabase(database);
  server = await start(0);
});
afterAll(async () => {
  if (testRules.length) await sql(orm.em.fork()).run(`DELETE FROM risk_rule WHERE id IN (${testRules.map(() => '?').join(', ')})`, testRules);
  await server?.stop();
  await orm?.close();
});

const db = () => sql(orm.em.fork());
const rand = () => randomBytes(4).toString('hex');
const freshIp = () => `10.${[1, 2, 3].map(() => 1 + Math.floor(Math.random() * 250)).join('.')}`;

/** Orders placed `secondsAgo` ago by a user, from an IP and device (inert: COMPLETED). */
async function placed(n: number, who: { userId?: string; ip?: string | null; deviceId?: string | null }, secondsAgo = 60) {
  for (let i = 0; i < n; i++) {
    await db().run(
      `INSERT INTO orders (id, user_id, status, currency, total, discount, shipping_fee, payable, preview_id, flash_sale, expire_at, device_id, client_ip, created_at)
       VALUES (?, ?, 'COMPLETED', 'CNY', 100, 0, 0, 100, ?, false, now() + interval '1 hour', ?, ?, now() - ? * interval '1 second')`,
      [newId('ord'), who.userId ?? `u_${rand()}`, newId('pvw'), who.deviceId ?? null, who.ip ?? null, secondsAgo],
    );
  }
}

const subject = (o: { userId?: string; ip?: string | null; deviceId?: string | null; payable?: number; currency?: string } = {}) => ({
  userId: o.userId ?? `u_${rand()}`,
  ip: o.ip ?? null,
  deviceId: o.deviceId ?? null,
  payable: o.payable ?? 1000,
  currency: o.currency ?? 'CNY',
});

describe('assessRisk against the orders table', () => {
  it('counts a user’s orders in the last 10 minutes: the 6th is rejected, older ones do not count', async () => {
    const userId = `u_${rand()}`;
    await placed(3, { userId }, 590);
    await placed(4, { userId }, 610); // outside the window
    await placed(1, { userId }, 5);
    expect((await assessRisk(orm.em.fork(), subject({ userId }))).action).toBe('ALLOW');
    await placed(1, { userId }, 5);
    const result = await assessRisk(orm.em.fork(), subject({ userId }));
    expect(result).toMatchObject({ action: 'REJECT', ruleIds: ['user-velocity'] });
    expect(result.observations.orders.user[600]).toBe(5);
  });

  it('counts orders per IP across users (20: a review, never a refusal for a shared address alone) and per device (10 reviews)', async () => {
    const ip = freshIp();
    await placed(19, { ip });
    expect((await assessRisk(orm.em.fork(), subject({ ip }))).action).toBe('ALLOW');
    await placed(1, { ip });
    expect(await assessRisk(orm.em.fork(), subject({ ip }))).toMatchObject({ action: 'REVIEW', ruleIds: ['ip-velocity'] });
    await placed(200, { ip });
    expect((await assessRisk(orm.em.fork(), subject({ ip }))).action).toBe('REVIEW');

    const deviceId = `dev-${rand()}`;
    await placed(9, { deviceId });
    expect((await assessRisk(orm.em.fork(), subject({ deviceId }))).action).toBe('ALLOW');
    await placed(1, { deviceId }, 599);
    expect(await assessRisk(orm.em.fork(), subject({ deviceId }))).toMatchObject({ action: 'REVIEW', ruleIds: ['device-velocity'] });
  });

  it('reviews a large payable and records the decision with the order', async () => {
    expect((await assessRisk(orm.em.fork(), subject({ payable: 5_000_000 }))).action).toBe('ALLOW');
    const s = subject({ payable: 5_000_001 });
    const result = await assessRisk(orm.em.fork(), s);
    expect(result).toMatchObject({ action: 'REVIEW', ruleIds: ['large-payable'] });
    const orderId = newId('ord');
    await orm.em.fork().transactional((tx) => recordRiskDecision(tx, result, orderId));
    const rows = await db().all<{ rule_id: string; action: string; order_id: string; facts: { decision: string; payable: number } }>(
      'SELECT rule_id, action, order_id, facts FROM risk_decision WHERE user_id = ?',
      [s.userId],
    );
    expect(rows).toEqual([
      { rule_id: 'large-payable', action: 'REVIEW', order_id: orderId, facts: expect.objectContaining({ decision: 'REVIEW', payable: 5_000_001 }) },
    ]);
  });

  it('rejects blocked users, devices and IPs (blocked by an admin), with a message that reveals nothing', async () => {
    const ip = freshIp();
    const deviceId = `dev-${rand()}`;
    const userId = `u_${rand()}`;
    for (const [kind, value] of [
      ['USER', userId],
      ['DEVICE', deviceId],
      ['IP', `::ffff:${ip}`],
    ] as const) {
      const res = await callSubgraph(
        server.url,
        'mutation($k: String!, $v: String!) { blockRiskSubject(kind: $k, value: $v, reason: "card testing") }',
        { k: kind, v: value },
        admin(),
      );
      expect(res.errors).toBeUndefined();
    }
    for (const s of [subject({ userId }), subject({ deviceId }), subject({ ip })]) {
      const result = await assessRisk(orm.em.fork(), s);
      expect(result).toMatchObject({ action: 'REJECT', ruleIds: ['blocklist'] });
      expect(result.reasons[0]).toContain('card testing');
    }
    expect(riskRejected().extensions.code).toBe('RISK_REJECTED');
    expect(riskRejected().message).not.toMatch(/block|rule|limit/i);
  });

  it('applies rule edits after the TTL without a deploy (TTL 0 here), by SQL and by the admin mutation', async () => {
    // A rule of its own, on a currency no other test uses, so parallel tests are not affected.
    const id = `test-xts-${rand()}`;
    testRules.push(id);
    await db().run(`INSERT INTO risk_rule (id, kind, params, action) VALUES (?, 'PAYABLE_ABOVE', '{"amount": 100, "currency": "XTS"}', 'REVIEW')`, [id]);
    const xts = subject({ payable: 200, currency: 'XTS' });
    expect(await assessRisk(orm.em.fork(), xts)).toMatchObject({ action: 'REVIEW', ruleIds: [id] });

    await db().run("UPDATE risk_rule SET action = 'REJECT' WHERE id = ?", [id]);
    expect((await assessRisk(orm.em.fork(), xts)).action).toBe('REJECT');

    // With a TTL the cache answers until it expires.
    process.env.RISK_RULES_TTL_MS = '600000';
    await assessRisk(orm.em.fork(), xts);
    await db().run('UPDATE risk_rule SET enabled = false WHERE id = ?', [id]);
    expect((await assessRisk(orm.em.fork(), xts)).action).toBe('REJECT');
    process.env.RISK_RULES_TTL_MS = '0';
    expect((await assessRisk(orm.em.fork(), xts)).action).toBe('ALLOW');

    const SET =
      'mutation($id: ID!, $on: Boolean!, $a: String, $p: String) { setRiskRule(id: $id, enabled: $on, action: $a, params: $p) { id kind action enabled params } }';
    const set = await callSubgraph(server.url, SET, { id, on: true, a: 'REVIEW', p: '{"amount": 500, "currency": "XTS"}' }, admin());
    expect(set.errors).toBeUndefined();
    expect(set.data!.setRiskRule).toEqual({ id, kind: 'PAYABLE_ABOVE', action: 'REVIEW', enabled: true, params: '{"amount":500,"currency":"XTS"}' });
    expect((await assessRisk(orm.em.fork(), xts)).action).toBe('ALLOW');
    expect((await assessRisk(orm.em.fork(), { ...xts, payable: 501 })).action).toBe('REVIEW');

    // A rule broken by hand is left out rather than stopping orders.
    await db().run(`UPDATE risk_rule SET params = '{"amount": "lots"}' WHERE id = ?`, [id]);
    forgetCachedRules();
    expect((await assessRisk(orm.em.fork(), { ...xts, payable: 501 })).action).toBe('ALLOW');
  });

  it('checks the admin mutations’ input and caller', async () => {
    const SET = 'mutation($id: ID!, $a: String, $p: String) { setRiskRule(id: $id, enabled: true, action: $a, params: $p) { id } }';
    expect(errorCode(await callSubgraph(server.url, SET, { id: 'user-velocity' }, user()))).toBe('FORBIDDEN');
    expect(errorCode(await callSubgraph(server.url, SET, { id: 'no-such-rule' }, admin()))).toBe('BAD_USER_INPUT');
    expect(errorCode(await callSubgraph(server.url, SET, { id: 'user-velocity', a: 'BAN' }, admin()))).toBe('BAD_USER_INPUT');
    const badJson = await callSubgraph(server.url, SET, { id: 'user-velocity', p: '{max: 5' }, admin());
    expect(errorCode(badJson)).toBe('BAD_USER_INPUT');
    const badParams = await callSubgraph(server.url, SET, { id: 'user-velocity', p: '{"max": 5, "window": 600}' }, admin());
    expect(badParams.errors?.[0]?.message).toContain('unknown: window');
    const BLOCK = 'mutation($k: String!, $v: String!) { blockRiskSubject(kind: $k, value: $v, reason: "x") }';
    expect(errorCode(await callSubgraph(server.url, BLOCK, { k: 'EMAIL', v: 'a@b.c' }, admin()))).toBe('BAD_USER_INPUT');
    expect(errorCode(await callSubgraph(server.url, BLOCK, { k: 'IP', v: 'not-an-ip' }, admin()))).toBe('BAD_USER_INPUT');
    expect(errorCode(await callSubgraph(server.url, BLOCK, { k: 'USER', v: 'u1' }, user()))).toBe('FORBIDDEN');
    // The rule the failed calls named is unchanged.
    expect(await db().one('SELECT action, params FROM risk_rule WHERE id = ?', ['user-velocity'])).toEqual({
      action: 'REJECT',
      params: { max: 5, windowSeconds: 600 },
    });
  });
});

describe('riskFacts', () => {
  it('reads the client IP and device id the gateway forwarded, and nothing else', () => {
    expect(riskFacts({ headers: { 'x-shop-client-ip': '::ffff:198.51.100.4', 'x-shop-device-id': 'dev_ABC-123' } })).toEqual({
      clientIp: '198.51.100.4',
      deviceId: 'dev_ABC-123',
    });
    expect(riskFacts({ headers: { 'x-shop-client-ip': '2001:DB8::1' } })).toEqual({ clientIp: '2001:db8::1', deviceId: null });
    expect(riskFacts({ headers: { 'x-forwarded-for': '1.2.3.4', 'x-device-id': 'd' } })).toEqual({ clientIp: null, deviceId: null });
    expect(riskFacts({ headers: { 'x-shop-client-ip': 'evil', 'x-shop-device-id': 'a b<script>' } })).toEqual({ clientIp: null, deviceId: null });
  });
});
