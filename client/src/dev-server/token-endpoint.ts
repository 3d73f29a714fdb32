import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Connect, Plugin } from 'vite';

/**
 * Development sign-in: GET /dev/token?user=alice answers { token, userId, roles } with a client JWT
 * signed by @shop/kit's mintClientToken (JWT_SECRET, or the kit's documented development default).
 * The browser cannot mint tokens itself (it must never hold the secret), so the Vite server does it.
 * Refused when NODE_ENV=production; "admin" gets the admin role, everyone else none.
 */
export const DEV_TOKEN_PATH = '/dev/token';
const USER = /^[A-Za-z0-9_.-]{1,64}$/;
const TTL_SECONDS = 12 * 3600;

type Minter = (identity: { userId: string; roles: string[] }, ttlSeconds?: number) => Promise<string>;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}

export function tokenHandler(mint: () => Promise<Minter>): Connect.NextHandleFunction {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (process.env.NODE_ENV === 'production') {
      send(res, 403, { error: 'Development sign-in is disabled in production' });
      return;
    }
    if (req.method !== 'GET') {
      send(res, 405, { error: 'Use GET /dev/token?user=<name>' });
      return;
    }
    const user = new URL(req.url ?? '', 'http://localhost').searchParams.get('user') ?? '';
    if (!USER.test(user)) {
      send(res, 400, { error: 'user must be 1..64 letters, digits, _ . or -' });
      return;
    }
    const roles = user === 'admin' ? ['admin'] : [];
    mint()
      .then((mintClientToken) => mintClientToken({ userId: user, roles }, TTL_SECONDS))
      .then(
        (token) => send(res, 200, { token, userId: user, roles }),
        (error: unknown) => send(res, 500, { error: `Could not mint a token: ${error instanceof Error ? error.message : String(error)}` }),
      );
  };
}

/** Loaded on first use, so the dev server starts without loading the kit (it needs the built kit: npm run build). */
const kitMinter = async (): Promise<Minter> => (await import('@shop/kit')).mintClientToken;

export function devTokenEndpoint(): Plugin {
  return {
    name: 'shop-dev-token-endpoint',
    configureServer(server) {
      server.middlewares.use(DEV_TOKEN_PATH, tokenHandler(kitMinter));
    },
    configurePreviewServer(server) {
      server.middlewares.use(DEV_TOKEN_PATH, tokenHandler(kitMinter));
    },
  };
}
