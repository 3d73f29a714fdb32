import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RequestHandler } from 'express';
import type { ApolloServerOptions } from '@apollo/server';
import { ErrorCode, envString, type Identity } from '@shop/kit';

/**
 * Persisted queries.
 * - Everyone: Apollo Server's automatic persisted queries (APQ): a client sends the SHA-256 of a
 *   query; an unknown hash answers PERSISTED_QUERY_NOT_FOUND and the client resends the text once.
 * - Partners (tokens with the role "partner"): only the operations of the safelist manifest
 *   (schema/operations/partner-operations.json, Apollo's persisted-query manifest format). A
 *   partner sends the operation's id as the persisted-query hash; the gateway supplies the text.
 *   Free text outside the list answers PERSISTED_QUERY_NOT_ALLOWED; an unknown id
 *   PERSISTED_QUERY_NOT_FOUND.
 */
export function persistedQueriesOptions(): Pick<ApolloServerOptions<Record<string, unknown>>, 'persistedQueries'> {
  return {};
}

interface Manifest {
  format: string;
  version: number;
  operations: { id: string; name: string; type: string; body: string }[];
}

export function loadPartnerManifest(
  path = envString('PARTNER_OPERATIONS_PATH', fileURLToPath(new URL('../../schema/operations/partner-operations.json', import.meta.url))),
): Map<string, string> {
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  if (manifest.format !== 'apollo-persisted-query-manifest' || manifest.version !== 1) throw new Error(`${path} is not a persisted-query manifest (version 1)`);
  const byId = new Map<string, string>();
  for (const op of manifest.operations) {
    const digest = createHash('sha256').update(op.body).digest('hex');
    if (digest !== op.id) throw new Error(`${path}: operation ${op.name} has id ${op.id} but its body hashes to ${digest}`);
    byId.set(op.id, op.body);
  }
  return byId;
}

export const isPartner = (identity: Identity | undefined): boolean => identity?.roles.includes('partner') ?? false;

const refuse = (code: string, message: string) => ({ errors: [{ message, extensions: { code } }] });

/** Express middleware after JSON parsing: enforces the safelist for partner requests, fills in the query text. */
export function partnerSafelist(operations: Map<string, string>): RequestHandler {
  return (req, res, next) => {
    if (!isPartner(res.locals.identity as Identity | undefined)) return next();
    if (req.method !== 'POST') {
      res.status(400).json(refuse(ErrorCode.PERSISTED_QUERY_NOT_ALLOWED, 'partners send their persisted operations with POST'));
      return;
    }
    const source = req.body as unknown;
    if (Array.isArray(source)) {
      res.status(400).json(refuse(ErrorCode.PERSISTED_QUERY_NOT_ALLOWED, 'partners send one persisted operation per request'));
      return;
    }
    const body = (source ?? {}) as { query?: unknown; extensions?: unknown };
    let extensions = body.extensions as { persistedQuery?: { sha256Hash?: unknown } } | string | undefined;
    if (typeof extensions === 'string') {
      try {
        extensions = JSON.parse(extensions) as { persistedQuery?: { sha256Hash?: unknown } };
      } catch {
        extensions = undefined;
      }
    }
    const hash = typeof extensions === 'object' ? extensions?.persistedQuery?.sha256Hash : undefined;
    const textHash = typeof body.query === 'string' ? createHash('sha256').update(body.query).digest('hex') : undefined;
    if (typeof hash !== 'string') {
      if (textHash && operations.has(textHash)) return next();
      res
        .status(400)
        .json(refuse(ErrorCode.PERSISTED_QUERY_NOT_ALLOWED, 'Partners may run only the operations of the partner safelist, sent by their persisted-query id'));
      return;
    }
    const text = operations.get(hash);
    if (!text) {
      res.status(200).json(refuse(ErrorCode.PERSISTED_QUERY_NOT_FOUND, `no partner operation has the id ${hash.slice(0, 80)}`));
      return;
    }
    if (textHash && textHash !== hash) {
      res.status(400).json(refuse(ErrorCode.PERSISTED_QUERY_NOT_ALLOWED, 'the query text does not match its persisted-query id'));
      return;
    }
    body.query = text;
    next();
  };
}
