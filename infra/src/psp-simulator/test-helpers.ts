import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tiny callback receiver for tests: records every request and answers as told. */
export interface ReceivedCallback {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
  receivedAt: number;
}

export interface Receiver {
  url: string;
  received: ReceivedCallback[];
  /** Callbacks for one paymentId (tests share the receiver, so each filters on its own data). */
  forPayment(paymentId: string): ReceivedCallback[];
  /** Answer 500 to the first `n` callbacks of this paymentId, then 200. */
  failFirst(paymentId: string, n: number): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedCallback[] = [];
  const failures = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // recorded as is; the test sees the raw text
      }
      received.push({ headers: req.headers, raw, body, receivedAt: Date.now() });
      const paymentId = String(body.paymentId);
      const left = failures.get(paymentId) ?? 0;
      if (left > 0) {
        failures.set(paymentId, left - 1);
        res.writeHead(500).end('not now');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/internal/v1/payment/callback`,
    received,
    forPayment: (paymentId) => received.filter((r) => r.body.paymentId === paymentId),
    failFirst: (paymentId, n) => void failures.set(paymentId, n),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ApiResponse {
  status: number;
  body: any;
  headers: Headers;
}

/** JSON calls to a running simulator. */
export function api(baseUrl: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<ApiResponse> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown) => call('POST', path, body),
    delete: (path: string) => call('DELETE', path),
  };
}

let counter = 0;
/** A fresh merchant payment id per test, so tests sharing a simulator never see each other's data. */
export const freshPaymentId = (): string => `pay_test_${Date.now().toString(36)}_${++counter}`;
