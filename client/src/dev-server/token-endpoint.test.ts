import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { tokenHandler } from './token-endpoint';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

function call(url: string, method = 'GET'): Promise<Answer> {
  const handler = tokenHandler(async () => async (identity) => `token-for:${identity.userId}:${identity.roles.join(',')}`);
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    const res = Object.assign(new EventEmitter(), {
      statusCode: 200,
      setHeader: (k: string, v: string) => void (headers[k] = v),
      end: (text: string) => resolve({ status: res.statusCode, body: JSON.parse(text) as Record<string, unknown> }),
    });
    handler({ url, method } as IncomingMessage, res as unknown as ServerResponse, () => undefined);
  });
}

const nodeEnv = process.env.NODE_ENV;
afterEach(() => {
  process.env.NODE_ENV = nodeEnv;
});

describe('dev token endpoint', () => {
  it('mints a token for a demo user; only admin gets the admin role', async () => {
    expect(await call('/?user=alice')).toEqual({ status: 200, body: { token: 'token-for:alice:', userId: 'alice', roles: [] } });
    expect((await call('/?user=admin')).body.roles).toEqual(['admin']);
  });

  it('refuses malformed users and other methods', async () => {
    expect((await call('/?user=')).status).toBe(400);
    expect((await call('/?user=a%20b')).status).toBe(400);
    expect((await call('/?user=alice', 'POST')).status).toBe(405);
  });

  it('refuses in production', async () => {
    process.env.NODE_ENV = 'production';
    expect((await call('/?user=alice')).status).toBe(403);
  });
});
