import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_HEADER } from '@shop/kit';
import { deduplicateInFlight } from './dedupe.js';

/** A subgraph stand-in that answers every request after `release()`, counting what it received. */
let received = 0;
let waiting: (() => void)[] = [];
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    received += 1;
    req.resume();
    waiting.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { n: received } })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends `count` requests at once, waits until the stand-in saw `expected` of them, answers all. */
async function burst(body: string, headers: Record<string, string>, count: number, expected: number) {
  received = 0;
  waiting = [];
  const fetcher = deduplicateInFlight('catalog', (u, init) => fetch(u, init));
  const answers = Array.from({ length: count }, () => fetcher(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }));
  const deadline = Date.now() + 10_000;
  while (received < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  for (const answer of waiting) answer();
  const bodies = await Promise.all(answers.map(async (a) => (await a).json()));
  return { received, bodies };
}

describe('deduplicateInFlight', () => {
  it('shares one fetch among identical anonymous queries in flight, each caller getting its own copy', async () => {
    const { received: fetched, bodies } = await burst('{"query":"query { products { id } }"}', {}, 5, 1);
    expect(fetched).toBe(1);
    expect(bodies).toEqual(Array.from({ length: 5 }, () => ({ data: { n: 1 } })));
  });

  it('never shares a request carrying an identity, nor a mutation', async () => {
    expect((await burst('{"query":"query { cart { id } }"}', { [IDENTITY_HEADER]: 'signed' }, 4, 4)).received).toBe(4);
    expect((await burst('{"query":"mutation { addToCart { id } }"}', {}, 3, 3)).received).toBe(3);
  });
});
