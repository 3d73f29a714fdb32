import { randomBytes } from 'node:crypto';
import pg from 'pg';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/kit/testing';
import { containersOf, render } from '../../infra/deploy/kustomize.js';
import { ROOT } from '../../infra/deploy/source-reads.js';
import { gql, tokenFor } from '../support/gateway-client.js';
import { productionStack, type ProductionStack } from '../support/production-stack.js';
import { database, payOnSimulator, seedProduct } from '../support/system.js';

/**
 * The system scaled out on one machine, deployed as in production: `npm run migrate` with the
 * migrator role, then every process with MIGRATE_ON_START=false and the data-only role; two
 * replicas of order, inventory and payment, each kind behind a round-robin proxy (a Kubernetes
 * Service), and two gateways behind one.
 */
const TTL_SECONDS = 10;
let stack: ProductionStack;
let db: ReturnType<typeof database>;
let gateways: string[];
const clients: Client[] = [];
beforeAll(async () => {
  stack = await productionStack({
    replicas: { order: 2, inventory: 2, payment: 2, gateway: 2 },
    env: {
      ORDER_PAYMENT_TTL_SECONDS: String(TTL_SECONDS),
      // Unpaid orders are canceled at the deadline itself (no grace window) so the test sees them time out.
      ORDER_PAYMENT_GRACE_SECONDS: '0',
      ORDER_TIMEOUT_SWEEP_MS: '200',
      // A loaded machine must not push placements onto the asynchronous path: this test counts answers.
      RESERVE_TIMEOUT_MS: '30000',
      SUBGRAPH_TIMEOUT_MS: '40000',
      RECONCILE_INTERVAL_MS: '300',
      RECONCILE_WINDOW_MS: '600000',
    },
  });
  db = database(stack.databaseUrl);
  gateways = stack.instances.filter((p) => p.kind === 'gateway').map((p) => `http://127.0.0.1:${p.port}/graphql`);
}, 180_000);
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await db?.close();
  await stack?.stop();
});

const port = (name: string) => stack.instances.find((p) => p.name === name)!.port;
const metric = async (instance: string, name: string): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${port(instance)}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
};

async function preview(gatewayUrl: string, token: string, items: { skuId: string; qty: number }[]): Promise<string> {
  const res = await gql(gatewayUrl, `mutation($i: PreviewOrderInput!) { previewOrder(input: $i) { previewId } }`, { i: { items } }, token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.previewOrder.previewId;
}
const PLACE = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { replayed order { id status } } }`;

describe('deployed as in production', () => {
  it('serves with a role that may read and write rows but not change the schema', async () => {
    const app = new pg.Client({ connectionString: stack.appUrl });
    await app.connect();
    try {
      await expect(app.query('SELECT count(*) FROM ordering.orders')).resolves.toBeDefined();
      await expect(app.query('CREATE TABLE ordering.intruder (id int)')).rejects.toThrow(/permission denied/);
      await expect(app.query('ALTER TABLE inventory.stock ADD COLUMN x int')).rejects.toThrow(/must be owner/);
    } finally {
      await app.end();
    }
  });

  it('answers every probe of its Kubernetes Deployment (infra/k8s) on every replica', async () => {
    const deployments = render(`${ROOT}infra/k8s/overlays/demo`).filter((o) => o.kind === 'Deployment');
    let probed = 0;
    for (const p of stack.instances) {
      const deployment = deployments.find((d) => d.metadata.name === (p.kind === 'psp' ? 'psp-simulator' : p.kind));
      expect(deployment, `a Deployment for ${p.kind}`).toBeDefined();
      const container = containersOf(deployment!)[0];
      for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe].filter(Boolean)) {
        const res = await fetch(`http://127.0.0.1:${p.port}${probe.httpGet.path}`);
        expect(res.status, `${p.name} ${probe.httpGet.path}`).toBe(200);
        probed += 1;
      }
    }
    expect(probed).toBeGreaterThanOrEqual(stack.instances.length * 2);
  });
});

describe('two replicas of order, inventory and payment, two gateways', () => {
  it('places one order per clientReqId, whichever gateway and replica each retry reaches', async () => {
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'idem', price: 1200, stock: { 'wh-a': 10 } }]);
    const buyer = `idem-${randomBytes(3).toString('hex')}`;
    const token = await tokenFor(buyer);
    const previewId = await preview(gateways[0]!, token, [{ skuId: skuIds[0]!, qty: 1 }]);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => gql(gateways[i % 2]!, PLACE, { i: { previewId, clientReqId: 'checkout-once' } }, token)),
    );
    expect(answers.flatMap((a) => a.errors ?? [])).toEqual([]);
    const ids = new Set(answers.map((a) => a.data!.placeOrder.order.id));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => !a.data!.placeOrder.replayed)).toHaveLength(1);
    const rows = await db.all('SELECT id FROM ordering.orders WHERE user_id = $1', [buyer]);
    expect(rows).toHaveLength(1);
    const stock = await db.one<{ reserved: number }>('SELECT reserved FROM inventory.stock WHERE sku_id = $1', [skuIds[0]]);
    expect(stock!.reserved).toBe(1);
  });

  it('never oversells under concurrent orders through both gateways, pushes PAID to a client of the other gateway, and times out the rest once', async () => {
    const STOCK = 5;
    const BUYERS = 12;
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'scarce', price: 900, stock: { 'wh-a': STOCK } }]);
    const sku = skuIds[0]!;
    const buyers = await Promise.all(Array.from({ length: BUYERS }, (_, i) => tokenFor(`scarce-${i}-${randomBytes(2).toString('hex')}`)));
    const placed = await Promise.all(
      buyers.map(async (token, i) => {
        const gateway = gateways[i % 2]!;
        const previewId = await preview(gateway, token, [{ skuId: sku, qty: 1 }]);
        const res = await gql(gateway, PLACE, { i: { previewId, clientReqId: `scarce-${i}` } }, token);
        return { token, res };
      }),
    );
    const won = placed.filter((p) => !p.res.errors);
    const refused = placed.filter((p) => p.res.errors);
    expect(won).toHaveLength(STOCK);
    expect(refused.map((p) => p.res.errors![0]!.extensions?.code)).toEqual(Array(BUYERS - STOCK).fill('STOCK_NOT_ENOUGH'));
    expect(won.every((p) => p.res.data!.placeOrder.order.status === 'PENDING_PAYMENT')).toBe(true);

    // Both replicas of order and inventory took connections.
    for (const kind of ['order', 'inventory', 'gateway'])
      expect(
        stack.proxies[kind]!.connections.every((n) => n > 0),
        kind,
      ).toBe(true);

    // A client of the second gateway follows an order paid through the first.
    const paidOne = won[0]!;
    const orderId: string = paidOne.res.data!.placeOrder.order.id;
    const client = createClient({
      url: gateways[1]!.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${paidOne.token}` },
      retryAttempts: 0,
    });
    clients.push(client);
    const statuses: string[] = [];
    client.subscribe(
      { query: `subscription($id: ID!) { orderStatusChanged(orderId: $id) { status } }`, variables: { id: orderId } },
      { next: (m) => void (m.data && statuses.push((m.data as any).orderStatusChanged.status)), error: () => undefined, complete: () => undefined },
    );
    await eventually(async () => (statuses.length > 0 ? true : undefined), { timeoutMs: 10_000 });
    await payOnSimulator(gateways[0]!, paidOne.token, orderId);
    await eventually(async () => (statuses.includes('PAID') ? true : undefined), { timeoutMs: 20_000 });

    // The four left unpaid time out: each canceled once, by one of the two order replicas, and
    // their stock returns once.
    const unpaid = won.slice(1).map((p) => p.res.data!.placeOrder.order.id as string);
    await eventually(
      async () => {
        const rows = await db.all('SELECT id FROM ordering.orders WHERE id = ANY($1) AND status = $2', [unpaid, 'CANCELED']);
        return rows.length === unpaid.length ? true : undefined;
      },
      { timeoutMs: (TTL_SECONDS + 20) * 1000, intervalMs: 200 },
    );
    const cancels = await db.all<{ order_id: string; n: number }>(
      `SELECT order_id, count(*)::int AS n FROM ordering.order_event WHERE order_id = ANY($1) AND to_status = 'CANCELED' GROUP BY order_id`,
      [unpaid],
    );
    expect(cancels.map((c) => c.n)).toEqual(Array(unpaid.length).fill(1));
    const stock = await eventually(
      async () => {
        const row = await db.one<{ available: number; reserved: number; sold: number }>(
          'SELECT available, reserved, sold FROM inventory.stock WHERE sku_id = $1',
          [sku],
        );
        return row && row.reserved === 0 && row.sold === 1 ? row : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(stock).toEqual({ available: STOCK - 1, reserved: 0, sold: 1 });
  }, 90_000);

  it('reconciles on one payment replica at a time, repairs a lost callback once, and hands over when the leader dies', async () => {
    const replicas = ['payment-1', 'payment-2'];
    await eventually(async () => ((await Promise.all(replicas.map((r) => metric(r, 'reconciliation_runs_total')))).some((n) => n > 0) ? true : undefined), {
      timeoutMs: 10_000,
    });
    const runs = await Promise.all(replicas.map((r) => metric(r, 'reconciliation_runs_total')));
    const leader = replicas[runs.findIndex((n) => n > 0)]!;
    const follower = replicas.find((r) => r !== leader)!;
    expect(await metric(follower, 'reconciliation_runs_total')).toBe(0);

    // A payment whose callback the provider never delivers is found and repaired by reconciliation.
    const { skuIds } = await seedProduct(stack.gatewayUrl, [{ title: 'lost callback', price: 700, stock: { 'wh-a': 1 } }]);
    const token = await tokenFor(`lost-${randomBytes(3).toString('hex')}`);
    const previewId = await preview(stack.gatewayUrl, token, [{ skuId: skuIds[0]!, qty: 1 }]);
    const placed = await gql(stack.gatewayUrl, PLACE, { i: { previewId, clientReqId: 'lost-callback' } }, token);
    const orderId: string = placed.data!.placeOrder.order.id;
    const fault = await fetch(`${stack.pspUrl}/admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'drop', remaining: 1 }),
    });
    expect(fault.status).toBe(200);
    const { paymentId } = await payOnSimulator(stack.gatewayUrl, token, orderId);
    await eventually(
      async () => {
        const o = await db.one<{ status: string }>('SELECT status FROM ordering.orders WHERE id = $1', [orderId]);
        return o?.status === 'PAID' ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    const sources = await db.all<{ source: string }>('SELECT source FROM payment.payment_callback WHERE payment_id = $1', [paymentId]);
    expect(sources).toEqual([{ source: 'reconciliation' }]);
    expect(await metric(follower, 'reconciliation_runs_total')).toBe(0);

    // The leader dies: PostgreSQL ends its session, and the other replica takes over.
    await stack.kill(leader);
    await eventually(async () => ((await metric(follower, 'reconciliation_runs_total')) > 0 ? true : undefined), { timeoutMs: 15_000, intervalMs: 200 });
  }, 90_000);
});
