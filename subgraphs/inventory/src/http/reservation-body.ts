import { isId } from '@shop/kit';
import type { ReserveInput } from '../domain/reservations.js';

/** A refusal of the internal HTTP API: status and a message that says what was expected. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const MAX_LINES = 100;
export const MAX_LINE_QTY = 10_000;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const bad = (message: string) => new HttpError(400, message);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function onlyKeys(value: Record<string, unknown>, allowed: string[], where: string): void {
  const extra = Object.keys(value).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw bad(`${where} has unknown field(s) ${extra.map((k) => `"${k.slice(0, 40)}"`).join(', ')}; allowed: ${allowed.join(', ')}`);
}

export function parseOrderId(value: unknown, where = 'orderId'): string {
  if (typeof value !== 'string' || !isId('ord', value))
    throw bad(`${where} must be an order id like "ord_<32 hex>", got ${JSON.stringify(value)?.slice(0, 80)}`);
  return value;
}

/** Body of POST /internal/v1/reservations: {orderId, lines: [{skuId, qty}], expireAt}. */
export function parseReserveBody(body: unknown): ReserveInput {
  if (!isObject(body)) throw bad('body must be a JSON object {orderId, lines, expireAt}');
  onlyKeys(body, ['orderId', 'lines', 'expireAt'], 'body');
  const orderId = parseOrderId(body.orderId);
  if (!Array.isArray(body.lines) || body.lines.length < 1 || body.lines.length > MAX_LINES) {
    throw bad(`lines must be an array of 1..${MAX_LINES} {skuId, qty}`);
  }
  const lines = body.lines.map((line: unknown, i) => {
    if (!isObject(line)) throw bad(`lines[${i}] must be an object {skuId, qty}`);
    onlyKeys(line, ['skuId', 'qty'], `lines[${i}]`);
    if (typeof line.skuId !== 'string' || !isId('sku', line.skuId)) throw bad(`lines[${i}].skuId must be a SKU id like "sku_<32 hex>"`);
    if (typeof line.qty !== 'number' || !Number.isInteger(line.qty) || line.qty < 1 || line.qty > MAX_LINE_QTY) {
      throw bad(`lines[${i}].qty must be an integer in 1..${MAX_LINE_QTY}, got ${JSON.stringify(line.qty)?.slice(0, 40)}`);
    }
    return { skuId: line.skuId, qty: line.qty };
  });
  if (typeof body.expireAt !== 'string' || !ISO_DATE_TIME.test(body.expireAt) || Number.isNaN(Date.parse(body.expireAt))) {
    throw bad('expireAt must be an ISO-8601 date-time with a zone, e.g. "2026-11-24T10:15:00Z"');
  }
  return { orderId, lines, expireAt: new Date(body.expireAt) };
}

/** Body of POST .../confirm: empty or {}. */
export function parseConfirmBody(body: unknown): void {
  if (body === undefined) return;
  if (!isObject(body)) throw bad('body must be empty or a JSON object {}');
  onlyKeys(body, [], 'body');
}

/** Body of POST .../release: empty, {} or {restock: boolean}. */
export function parseReleaseBody(body: unknown): { restock: boolean } {
  if (body === undefined) return { restock: false };
  if (!isObject(body)) throw bad('body must be empty or a JSON object {restock?: boolean}');
  onlyKeys(body, ['restock'], 'body');
  if (body.restock !== undefined && typeof body.restock !== 'boolean') throw bad('restock must be a boolean');
  return { restock: body.restock === true };
}
