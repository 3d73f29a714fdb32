import express, { type Express, type Request } from 'express';
import type { SubgraphName } from './config.js';
import { DomainError } from './errors.js';
import { IDENTITY_HEADER, isService, verifyInternalIdentity, type Identity } from './identity.js';
import { logger } from './logger.js';

/** The service identity on an internal request to `subgraph`, or undefined when it has none, a forged one, or one for another subgraph. */
export async function serviceCaller(headers: Request['headers'], subgraph: SubgraphName): Promise<Identity | undefined> {
  const header = headers[IDENTITY_HEADER];
  if (typeof header !== 'string' || header.length === 0) return undefined;
  try {
    const identity = await verifyInternalIdentity(header, subgraph);
    return isService(identity) ? identity : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An internal HTTP endpoint for another subgraph's documented synchronous call: only a caller with
 * a service identity signed for this subgraph gets in (401 otherwise); a DomainError answers 400
 * with its message and code; anything else 500 without details. `app` is the one startSubgraph
 * hands to `routes` (it knows which subgraph it serves).
 */
export function internalRoute(app: Express, path: string, handler: (req: Request, body: unknown) => Promise<unknown>): void {
  const subgraph = app.locals.subgraph as SubgraphName;
  app.post(path, express.json({ limit: '64kb' }), async (req, res) => {
    if (!(await serviceCaller(req.headers, subgraph))) {
      res.status(401).json({ error: 'a service identity is required' });
      return;
    }
    try {
      res.json(await handler(req, req.body ?? {}));
    } catch (error) {
      if (error instanceof DomainError) {
        res.status(400).json({ error: error.message, code: error.extensions.code });
        return;
      }
      logger.error({ err: error, path }, 'internal endpoint failed');
      res.status(500).json({ error: 'internal error' });
    }
  });
}
