import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, openDatabase, signInternalIdentity } from '@shop/kit';
import { entities } from './domain/entities.js';
import { setOnHand } from './domain/stock.js';
import { migrations } from './migrations/index.js';
import { start } from './index.js';

let server: Awaited<ReturnType<typeof start>>;
let orm: Awaited<ReturnType<typeof openDatabase>>;
let base: string;
beforeAll(async () => {
  server = await start(0);
  base = server.url.replace(/\/graphql$/, '');
  orm = await openDatabase({ schema: 'inventory', entities, migrations, poolMax: 2 });
});
afterAll(async () => {
  await orm?.close();
  await server?.stop();
});

const service = () => signInternalIdentity({ userId: 'order', roles: ['service'] }, 'inventory');

async function post(path: string, body: unknown, identity: string | null | undefined = undefined) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const id = identity === undefined ? await service() : identity;
  if (id) headers['x-shop-identity'] = id;
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function skuWithStock(onHand: number): Promise<string> {
  const skuId = newId('sku');
  await setOnHand(orm.em.fork(), skuId, `wh-http-${Date.now().toString(36)}`, onHand);
  return skuId;
}

describe('internal reservation API', () => {
  it('reserves, confirms and releases for a service caller, idempotently', async () => {
    const skuId = await skuWithStock(5);
    const orderId = newId('ord');
    const body = { orderId, lines: [{ skuId, qty: 2 }], expireAt: new Date(Date.now() + 900_000).toISOString() };
    const held = await post('/internal/v1/reservations', body);
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject({ state: 'HOLD', replayed: false, allocations: [{ skuId, qty: 2 }] });
    expect((await post('/internal/v1/reservations', body)).body).toMatchObject({ state: 'HOLD', replayed: true });

    expect(await post(`/internal/v1/reservations/${orderId}/confirm`, undefined)).toEqual({
      status: 200,
      body: { ok: true, state: 'CONFIRMED', changed: true },
    });
    expect(await post(`/internal/v1/reservations/${orderId}/confirm`, {})).toEqual({ status: 200, body: { ok: true, state: 'CONFIRMED', changed: false } });
    expect(await post(`/internal/v1/reservations/${orderId}/release`, {})).toEqual({ status: 409, body: { ok: false, state: 'CONFIRMED', changed: false } });
    expect(await post(`/internal/v1/reservations/${orderId}/release`, { restock: true })).toEqual({
      status: 200,
      body: { ok: true, state: 'RELEASED', changed: true },
    });
  });

  it('answers a shortage with REJECTED and the shortages', async () => {
    const skuId = await skuWithStock(1);
    const res = await post('/internal/v1/reservations', { orderId: newId('ord'), lines: [{ skuId, qty: 2 }], expireAt: '2030-01-01T00:00:00Z' });
    expect(res).toEqual({
      status: 200,
      body: { state: 'REJECTED', shortages: [{ skuId, requested: 2, available: 1 }], replayed: false, orderState: 'REJECTED' },
    });
  });

  it('refuses callers without a valid service identity with 401', async () => {
    const body = { orderId: newId('ord'), lines: [{ skuId: newId('sku'), qty: 1 }], expireAt: '2030-01-01T00:00:00Z' };
    expect((await post('/internal/v1/reservations', body, null)).status).toBe(401);
    expect((await post('/internal/v1/reservations', body, 'forged.token.value')).status).toBe(401);
    const customer = await signInternalIdentity({ userId: 'u1', roles: ['admin'] }, 'inventory');
    expect((await post('/internal/v1/reservations', body, customer)).status).toBe(401);
    // A service identity signed for another subgraph is not valid here.
    const forFulfillment = await signInternalIdentity({ userId: 'order', roles: ['service'] }, 'fulfillment');
    expect((await post('/internal/v1/reservations', body, forFulfillment)).status).toBe(401);
    expect((await post(`/internal/v1/reservations/${body.orderId}/release`, {}, null)).status).toBe(401);
  });

  it('validates bodies strictly with 400 and a clear message', async () => {
    const ok = { orderId: newId('ord'), lines: [{ skuId: newId('sku'), qty: 1 }], expireAt: '2030-01-01T00:00:00Z' };
    const bad: unknown[] = [
      '{not json',
      [],
      { ...ok, orderId: 'o1' },
      { ...ok, lines: [] },
      { ...ok, lines: [{ skuId: 'x', qty: 1 }] },
      { ...ok, lines: [{ skuId: ok.lines[0]!.skuId, qty: 0 }] },
      { ...ok, lines: [{ skuId: ok.lines[0]!.skuId, qty: 1.5 }] },
      { ...ok, lines: [{ skuId: ok.lines[0]!.skuId, qty: '1' }] },
      { ...ok, lines: [{ skuId: ok.lines[0]!.skuId, qty: 1, price: 5 }] },
      { ...ok, expireAt: 'tomorrow' },
      { ...ok, extra: true },
    ];
    for (const body of bad) {
      const res = await post('/internal/v1/reservations', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(typeof res.body.error).toBe('string');
    }
    expect((await post('/internal/v1/reservations/not-an-order/confirm', {})).status).toBe(400);
    expect((await post(`/internal/v1/reservations/${ok.orderId}/release`, { restock: 'yes' })).status).toBe(400);
    expect((await post(`/internal/v1/reservations/${ok.orderId}/confirm`, { restock: true })).status).toBe(400);
  });
});
