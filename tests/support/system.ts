import { randomBytes } from 'node:crypto';
import pg from 'pg';
// @ts-expect-error plain ESM module without types
import { startStack } from '../../infra/scripts/stack.mjs';
import { gql, tokenFor } from './gateway-client.js';

export interface Stack {
  gatewayUrl: string;
  wsUrl: string;
  pspUrl: string;
  ports: Record<string, number>;
  env: Record<string, string>;
  instances: { name: string; kind: string; port: number }[];
  proxies: Record<string, { connections: number[] }>;
  stop(): Promise<void>;
  kill(name: string): Promise<void>;
  launch(name: string): void;
  restart(name: string): Promise<void>;
}

/**
 * Starts every process of the system against this test run's database, with its own broker names.
 * `replicas` and `balancer`: several processes of a kind, and what spreads connections over them
 * (infra/scripts/stack.mjs).
 * Every test client comes from 127.0.0.1 and the run's tests share one database, so the velocity
 * rules of risk control (orders per IP, user, device) are switched off through the admin API;
 * tests of risk control switch on what they test.
 */
export async function systemStack(
  env: Record<string, string> = {},
  replicas?: Record<string, number>,
  balancer: 'proxy' | 'kernel' = 'proxy',
): Promise<Stack & { databaseUrl: string; runId: string }> {
  // A database of its own: test files run in parallel, and what one changes (risk rules, demo
  // data, the catalog's first page) must not leak into another.
  const suffix = randomBytes(3).toString('hex');
  const databaseUrl = await createDatabase(suffix);
  // Its broker names and Redis keys start with it (kit topology.ts, redis.ts).
  const runId = `${process.env.SHOP_RUN_ID}${suffix}`;
  let stack: Stack;
  try {
    stack = await startStack({ databaseUrl, runId, env: { LOG_LEVEL: 'warn', ...env }, replicas, balancer });
  } catch (error) {
    await dropDatabase(databaseUrl);
    throw error;
  }
  const stopProcesses = stack.stop;
  stack.stop = async () => {
    await stopProcesses();
    await dropDatabase(databaseUrl);
  };
  await relaxRiskRules(stack.gatewayUrl);
  return { ...stack, databaseUrl, runId };
}

/** Switches off the velocity rules of risk control (every test client is 127.0.0.1). */
export async function relaxRiskRules(gatewayUrl: string): Promise<void> {
  const admin = await adminToken();
  for (const id of ['ip-velocity', 'user-velocity', 'device-velocity']) {
    const res = await gql(gatewayUrl, `mutation($id: ID!) { setRiskRule(id: $id, enabled: false) { id } }`, { id }, admin);
    if (res.errors) throw new Error(`could not relax risk rule ${id}: ${JSON.stringify(res.errors)}`);
  }
}

export async function adminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function createDatabase(suffix: string): Promise<string> {
  const url = new URL(process.env.DATABASE_URL!);
  const name = `${url.pathname.slice(1)}_s${suffix}`;
  await adminClient((c) => c.query(`CREATE DATABASE "${name}"`));
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  await adminClient((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** SQL against a stack's database, for assertions on what the services stored. */
export function database(databaseUrl: string) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  // An idle client loses its connection when the stack drops its database at the end.
  pool.on('error', () => undefined);
  return {
    async all<T = Record<string, any>>(text: string, params: unknown[] = []): Promise<T[]> {
      return (await pool.query(text, params)).rows as T[];
    },
    async one<T = Record<string, any>>(text: string, params: unknown[] = []): Promise<T | undefined> {
      return (await pool.query(text, params)).rows[0] as T | undefined;
    },
    close: () => pool.end(),
  };
}

export async function adminToken() {
  return tokenFor(`admin-${randomBytes(3).toString('hex')}`, ['admin']);
}

/** Creates a product with the given SKUs and stock through the gateway as an admin. */
export async function seedProduct(
  gatewayUrl: string,
  skus: { title: string; price: number; stock: Record<string, number>; flashSale?: boolean }[],
  title = `Product ${Date.now()}`,
) {
  const token = await adminToken();
  const created = await gql(
    gatewayUrl,
    `mutation($i: CreateProductInput!) { createProduct(input: $i) { id skus { id } } }`,
    {
      i: { title, description: 'system test', skus: skus.map((s) => ({ title: s.title, price: s.price, currency: 'CNY', flashSale: s.flashSale ?? false })) },
    },
    token,
  );
  if (created.errors) throw new Error(JSON.stringify(created.errors));
  const ids: string[] = created.data!.createProduct.skus.map((s: { id: string }) => s.id);
  for (const [i, sku] of skus.entries()) {
    for (const [warehouseId, onHand] of Object.entries(sku.stock)) {
      const set = await gql(
        gatewayUrl,
        `mutation($s: ID!, $w: ID!, $n: Int!) { setStock(skuId: $s, warehouseId: $w, onHand: $n) { id available } }`,
        { s: ids[i], w: warehouseId, n: onHand },
        token,
      );
      if (set.errors) throw new Error(JSON.stringify(set.errors));
    }
  }
  return { productId: created.data!.createProduct.id as string, skuIds: ids };
}

/** previewOrder + placeOrder through the gateway; throws with the error code on failure. */
export async function placeOrder(
  gatewayUrl: string,
  token: string,
  items: { skuId: string; qty: number }[],
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const preview = await gql(
    gatewayUrl,
    `mutation($i: PreviewOrderInput!) { previewOrder(input: $i) { previewId payable { amount } } }`,
    { i: { items, ...extra } },
    token,
    headers,
  );
  if (preview.errors) throw Object.assign(new Error(preview.errors[0]!.message), { code: preview.errors[0]!.extensions?.code });
  const placed = await gql(
    gatewayUrl,
    `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { replayed order { id status payable { amount currency } } } }`,
    {
      i: { previewId: preview.data!.previewOrder.previewId, clientReqId: `sys-${randomBytes(6).toString('hex')}` },
    },
    token,
    headers,
  );
  if (placed.errors) throw Object.assign(new Error(placed.errors[0]!.message), { code: placed.errors[0]!.extensions?.code });
  return placed.data!.placeOrder.order as { id: string; status: string; payable: { amount: number; currency: string } };
}

/** payOrder, then the buyer presses Pay (or Fail) on the simulator's checkout page. */
export async function payOnSimulator(gatewayUrl: string, token: string, orderId: string, outcome: 'pay' | 'fail' = 'pay') {
  const session = await gql(gatewayUrl, `mutation($id: ID!) { payOrder(orderId: $id) { paymentId redirectUrl amount { amount } } }`, { id: orderId }, token);
  if (session.errors) throw new Error(JSON.stringify(session.errors));
  const { redirectUrl, paymentId } = session.data!.payOrder;
  const res = await fetch(`${redirectUrl}/${outcome}`, { method: 'POST', redirect: 'manual' });
  if (res.status >= 400) throw new Error(`simulator answered ${res.status} to ${outcome}`);
  return { paymentId: paymentId as string, redirectUrl: redirectUrl as string };
}
