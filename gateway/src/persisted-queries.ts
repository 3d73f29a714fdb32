import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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

/** A request the edge policy refuses before Apollo sees it: HTTP status, public code, message. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
}

/** What a client sent: the GraphQL request fields the safelist looks at. */
export interface OperationRequest {
  query?: unknown;
  extensions?: unknown;
}

const persistedHash = (extensions: unknown): unknown => {
  let parsed = extensions;
  if (typeof parsed === 'string') {
    try {
      parsed = JSON.parse(parsed) as unknown;
    } catch {
      parsed = undefined;
    }
  }
  return typeof parsed === 'object' && parsed !== null ? (parsed as { persistedQuery?: { sha256Hash?: unknown } }).persistedQuery?.sha256Hash : undefined;
};

/**
 * The partner safelist, for any transport: a partner's request runs only an operation of the
 * manifest, sent by its id (or as its exact text). Answers the query text to run, or the refusal.
 */
export function admitPartnerOperation(operations: Map<string, string>, request: OperationRequest): { query: string } | Refusal {
  const hash = persistedHash(request.extensions);
  // An empty text counts as none: graphql-ws requires a query string, so a partner sends "" with the id there.
  const textHash = typeof request.query === 'string' && request.query !== '' ? createHash('sha256').update(request.query).digest('hex') : undefined;
  if (typeof hash !== 'string') {
    if (textHash && operations.has(textHash)) return { query: request.query as string };
    return {
      status: 400,
      code: ErrorCode.PERSISTED_QUERY_NOT_ALLOWED,
      message: 'Partners may run only the operations of the partner safelist, sent by their persisted-query id',
    };
  }
  const text = operations.get(hash);
  if (!text) return { status: 200, code: ErrorCode.PERSISTED_QUERY_NOT_FOUND, message: `no partner operation has the id ${hash.slice(0, 80)}` };
  if (textHash && textHash !== hash)
    return { status: 400, code: ErrorCode.PERSISTED_QUERY_NOT_ALLOWED, message: 'the query text does not match its persisted-query id' };
  return { query: text };
}
