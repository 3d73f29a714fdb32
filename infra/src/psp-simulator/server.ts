import http from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { logger } from '@shop/kit';
import { checkoutPage, notFoundPage, resultPage } from './checkout-page.js';
import { Delivery } from './delivery.js';
import { Faults, type FaultMode } from './faults.js';
import { Ledger } from './ledger.js';
import { Store } from './store.js';
import type { TxnStatus } from './types.js';
import { amount, badRequest, currency, HttpError, httpUrl, isoQuery, objectBody, optionalInt, requiredStr } from './validation.js';

export interface SimulatorOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  /** Base of the checkout URLs handed out; defaults to http://127.0.0.1:<port>. */
  publicUrl?: string;
  /** HMAC secret of the callbacks (PAYMENT_WEBHOOK_SECRET). */
  secret: string;
  retryBaseMs?: number;
  retryMaxMs?: number;
  maxAttempts?: number;
  callbackTimeoutMs?: number;
  /** JSON file mirroring the state (PSP_STATE_FILE); in memory only when absent. */
  stateFile?: string;
}

export interface RunningSimulator {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const FAULT_MODES: FaultMode[] = ['none', 'delay', 'drop', 'duplicate'];
const TXN_STATUSES: TxnStatus[] = ['PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED'];

/** The payment service provider simulator: intents, a checkout page, signed callbacks, refunds, a ledger, faults. */
export async function createSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const log = logger.child({ component: 'psp-simulator' });
  const store = new Store(options.stateFile);
  const faults = new Faults();
  const delivery = new Delivery({
    store,
    faults,
    secret: options.secret,
    log,
    retryBaseMs: options.retryBaseMs ?? 500,
    retryMaxMs: options.retryMaxMs ?? 30_000,
    maxAttempts: options.maxAttempts ?? 20,
    timeoutMs: options.callbackTimeoutMs ?? 10_000,
  });

  const app = express();
  app.disable('x-powered-by');
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://127.0.0.1:${port}`;
  const ledger = new Ledger(store, delivery, (options.publicUrl ?? url).replace(/\/+$/, ''));

  app.use(express.json({ limit: '100kb' }));
  app.use(express.urlencoded({ extended: false, limit: '10kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: 'psp-simulator' });
  });

  // --- Intents (the merchant API) ---
  app.post('/v1/intents', (req, res) => {
    const body = objectBody(req.body);
    const returnUrl = httpUrl(body, 'returnUrl', true);
    const { txn, created } = ledger.createIntent({
      merchantRef: requiredStr(body, 'merchantRef'),
      orderId: requiredStr(body, 'orderId'),
      amount: amount(body),
      currency: currency(body),
      callbackUrl: httpUrl(body, 'callbackUrl') as string,
      ...(returnUrl ? { returnUrl } : {}),
    });
    if (!created) res.setHeader('Idempotent-Replayed', 'true');
    res.status(201).json(ledger.intentView(txn));
  });
  app.get('/v1/intents/:id', (req, res) => {
    res.json(ledger.intentView(ledger.intent(req.params.id)));
  });
  app.post('/v1/intents/:id/pay', (req, res) => {
    const { txn, changed } = ledger.settle(req.params.id, 'SUCCEEDED');
    res.json({ ...ledger.intentView(txn), changed });
  });
  app.post('/v1/intents/:id/fail', (req, res) => {
    const { txn, changed } = ledger.settle(req.params.id, 'FAILED');
    res.json({ ...ledger.intentView(txn), changed });
  });

  // --- Refunds ---
  app.post('/v1/refunds', (req, res) => {
    const body = objectBody(req.body);
    const refundCurrency = body.currency === undefined ? undefined : currency(body);
    const { refund, txn, created } = ledger.refund({
      paymentTxnId: requiredStr(body, 'paymentTxnId'),
      amount: amount(body),
      refundRef: requiredStr(body, 'refundRef'),
      ...(refundCurrency ? { currency: refundCurrency } : {}),
    });
    if (!created) res.setHeader('Idempotent-Replayed', 'true');
    res.status(201).json({ ...refund, transactionStatus: txn.status });
  });

  // --- Checkout page (the payer's browser) ---
  const html = (res: Response, status: number, body: string) => {
    res.status(status).setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    res.type('html').send(body);
  };
  app.get('/checkout/:id', (req, res) => {
    const txn = store.transactionByIntent(req.params.id);
    if (!txn) return html(res, 404, notFoundPage(req.params.id));
    html(res, 200, checkoutPage(txn));
  });
  for (const [action, result] of [
    ['pay', 'SUCCEEDED'],
    ['fail', 'FAILED'],
  ] as const) {
    app.post(`/checkout/:id/${action}`, (req, res) => {
      const txn = store.transactionByIntent(req.params.id);
      if (!txn) return html(res, 404, notFoundPage(req.params.id));
      // A decided intent is final: whichever button, the page shows the recorded result.
      if (txn.status === 'PENDING') ledger.settle(txn.intentId, result);
      html(res, 200, resultPage(txn));
    });
  }

  // --- Admin: fault injection, ledger, callbacks ---
  app.get('/admin/faults', (_req, res) => {
    res.json(faults.current());
  });
  app.post('/admin/faults', (req, res) => {
    const body = objectBody(req.body);
    const mode = body.mode;
    if (typeof mode !== 'string' || !FAULT_MODES.includes(mode as FaultMode)) {
      throw badRequest(`mode must be one of ${FAULT_MODES.join(', ')}`);
    }
    const delayMs = optionalInt(body, 'delayMs', 0, 3_600_000);
    const count = optionalInt(body, 'count', 1, 1_000_000);
    const duplicates = optionalInt(body, 'duplicates', 1, 100);
    if (mode === 'delay' && delayMs === undefined) throw badRequest('delayMs is required for mode "delay"');
    faults.set({
      mode: mode as FaultMode,
      ...(delayMs !== undefined ? { delayMs } : {}),
      ...(duplicates !== undefined ? { duplicates } : {}),
      remaining: count ?? null,
    });
    log.info({ faults: faults.current() }, 'fault injection set');
    res.json(faults.current());
  });
  app.delete('/admin/faults', (_req, res) => {
    faults.reset();
    res.json(faults.current());
  });
  app.get('/admin/transactions', (req, res) => {
    const status = req.query.status;
    if (status !== undefined && !TXN_STATUSES.includes(status as TxnStatus)) {
      throw badRequest(`status must be one of ${TXN_STATUSES.join(', ')}`);
    }
    const paymentId = req.query.paymentId;
    if (paymentId !== undefined && (typeof paymentId !== 'string' || paymentId === '')) throw badRequest('paymentId must be a string');
    const from = isoQuery(req.query.from, 'from');
    const to = isoQuery(req.query.to, 'to');
    if (from !== undefined && to !== undefined && from > to) throw badRequest('from must not be after to');
    const rows = ledger.list({
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(status ? { status: status as TxnStatus } : {}),
      ...(paymentId ? { paymentId: paymentId as string } : {}),
    });
    res.json({ transactions: rows.map((t) => ledger.transactionView(t)) });
  });
  app.get('/admin/transactions/:paymentTxnId', (req, res) => {
    const txn = store.transactionByTxn(req.params.paymentTxnId);
    if (!txn) throw new HttpError(404, `no transaction ${req.params.paymentTxnId}`);
    res.json(ledger.transactionView(txn));
  });
  app.get('/admin/callbacks', (req, res) => {
    const filters = (['eventId', 'paymentTxnId', 'paymentId'] as const).flatMap((field) => {
      const value = req.query[field];
      if (value === undefined) return [];
      if (typeof value !== 'string') throw badRequest(`${field} must be a string`);
      return [[field, value] as const];
    });
    const attempts = store.deliveryAttempts().filter((a) => filters.every(([field, value]) => a[field] === value));
    res.json({ callbacks: attempts });
  });
  app.post('/admin/callbacks/:eventId/redeliver', (req, res) => {
    const event = ledger.redeliver(req.params.eventId);
    res.status(202).json({ eventId: event.body.eventId, delivery: event.state });
  });

  app.use((req, _res, next) => next(new HttpError(404, `no route ${req.method} ${req.path}`)));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof HttpError) return void res.status(error.status).json({ error: error.message });
    const e = error as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') return void res.status(400).json({ error: 'the body is not valid JSON' });
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return void res.status(e.status).json({ error: e.message ?? 'bad request' });
    log.error({ err: error }, 'unexpected simulator error');
    res.status(500).json({ error: 'internal error' });
  });

  delivery.resume();
  log.info({ url, publicUrl: options.publicUrl ?? url }, 'payment provider simulator ready');

  return {
    url,
    port,
    async stop() {
      await delivery.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.save();
    },
  };
}
