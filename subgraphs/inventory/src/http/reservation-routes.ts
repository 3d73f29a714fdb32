import type { IncomingMessage } from 'node:http';
import { IDENTITY_HEADER, logger, serviceCaller, type SubgraphServerOptions, type openDatabase } from '@shop/kit';
import { recordReservation } from '../domain/metrics.js';
import { confirm, release, reserve } from '../domain/reservations.js';
import { HttpError, parseConfirmBody, parseOrderId, parseReleaseBody, parseReserveBody } from './reservation-body.js';

type App = Parameters<NonNullable<SubgraphServerOptions['routes']>>[0];
type Orm = Awaited<ReturnType<typeof openDatabase>>;
interface JsonResponse {
  status(code: number): { json(body: unknown): unknown };
}

const MAX_BODY_BYTES = 64 * 1024;

/** Only other subgraphs (a forwarded identity with role "service") may move stock. */
async function requireService(req: IncomingMessage): Promise<void> {
  const header = req.headers[IDENTITY_HEADER];
  if (typeof header !== 'string' || header.length === 0) throw new HttpError(401, `missing ${IDENTITY_HEADER}: this endpoint is for internal services`);
  if (!(await serviceCaller(req.headers, 'inventory'))) {
    throw new HttpError(401, `${IDENTITY_HEADER} is not a valid service identity for inventory: this endpoint is for internal services (role "service") only`);
  }
}

/** Reads a JSON body (no body parser is mounted on these routes); undefined when empty. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'Content-Type must be application/json');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

async function handle(req: IncomingMessage, res: JsonResponse, action: (body: unknown) => Promise<{ status: number; body: unknown }>): Promise<void> {
  try {
    await requireService(req);
    const result = await action(await readJson(req));
    res.status(result.status).json(result.body);
  } catch (error) {
    if (error instanceof HttpError) {
      res.status(error.status).json({ error: error.message });
      return;
    }
    logger.error({ err: error, url: req.url }, 'internal reservation API failed');
    res.status(500).json({ error: 'internal error' });
  }
}

/**
 * The internal reservation API the order subgraph calls synchronously (RabbitMQ consumers call the
 * same domain functions):
 * - POST /internal/v1/reservations {orderId, lines: [{skuId, qty}], expireAt} -> 200 ReserveOutcome
 *   (HOLD and REJECTED are both 200; `replayed` says an earlier call decided)
 * - POST /internal/v1/reservations/:orderId/confirm (empty or {}) -> 200 {ok: true, state, changed}, 409 {ok: false, state, changed}
 * - POST /internal/v1/reservations/:orderId/release ({restock?: boolean}) -> same shape
 * 400 malformed input, 401 no valid service identity, 413 body too large, 415 not JSON, 500 {error}.
 */
export function reservationRoutes(orm: Orm): (app: App) => void {
  return (app) => {
    app.post('/internal/v1/reservations', (req, res) => {
      void handle(req, res, async (body) => {
        const input = parseReserveBody(body);
        try {
          const outcome = await reserve(orm.em.fork(), input);
          recordReservation(true);
          return { status: 200, body: outcome };
        } catch (error) {
          recordReservation(false);
          throw error;
        }
      });
    });
    app.post('/internal/v1/reservations/:orderId/confirm', (req, res) => {
      void handle(req, res, async (body) => {
        const orderId = parseOrderId(req.params.orderId, 'the orderId in the path');
        parseConfirmBody(body);
        const result = await confirm(orm.em.fork(), orderId);
        return { status: result.ok ? 200 : 409, body: result };
      });
    });
    app.post('/internal/v1/reservations/:orderId/release', (req, res) => {
      void handle(req, res, async (body) => {
        const orderId = parseOrderId(req.params.orderId, 'the orderId in the path');
        const result = await release(orm.em.fork(), orderId, parseReleaseBody(body));
        return { status: result.ok ? 200 : 409, body: result };
      });
    });
  };
}
