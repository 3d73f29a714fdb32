import express, { type Express, type Request } from 'express';
import { DomainError } from './errors.js';
import { IDENTITY_HEADER, isService, verifyInternalIdentity } from './identity.js';
import { logger } from './logger.js';

/**
 * An internal HTTP endpoint for another subgraph's documented synchronous call: only a caller with
 * a service identity signed by the gateway/subgraph secret gets in (401 otherwise); a DomainError
 * answers 400 with its message and code; anything else 500 without details.
 */
export function internalRoute(app: Express, path: string, handler: (req: Request, body: unknown) => Promise<unknown>): void {
  app.post(path, express.json({ limit: '64kb' }), async (req, res) => {
    const header = req.headers[IDENTITY_HEADER];
    try {
      const identity = typeof header === 'string' ? await verifyInternalIdentity(header) : undefined;
      if (!isService(identity)) {
        res.status(401).json({ error: 'a service identity is required' });
        return;
      }
    } catch {
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
