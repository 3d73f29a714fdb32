import type { RequestHandler } from 'express';
import type { ParseOptions, ValidationRule } from 'graphql';
import { knownOperationLabel, type Identity, type OperationLabel } from '@shop/kit';
import { identityFromAuthorization } from '../auth.js';
import { admitPartnerOperation, isPartner, type OperationRequest, type Refusal } from '../persisted-queries.js';
import { clientFacts } from './client-facts.js';
import { knownOperationNames } from './known-operations.js';
import { limitRules, parseOptions, queryLimitsFromEnv, type QueryLimits } from './limits.js';

/**
 * The one place that decides who may run what at the gateway, used by HTTP and graphql-ws alike:
 * - `identify`: the caller, from "Bearer <JWT>" (HTTP Authorization, or connectionParams.authorization);
 * - `admit`: the partner safelist (a partner runs only its manifest's operations);
 * - `clientFacts`: the client's address and device, for risk control;
 * - `validationRules` / `parseOptions`: the query limits, checked before anything is planned;
 * - `operationLabel`: the metrics label of an operation, from a closed set.
 */
export interface EdgePolicy {
  limits: QueryLimits;
  identify(authorization: unknown): Promise<Identity | undefined>;
  /** The query text to run (a partner's persisted id replaced by its text), or why the request is refused. */
  admit(identity: Identity | undefined, request: OperationRequest): { query?: string } | Refusal;
  clientFacts: typeof clientFacts;
  validationRules: ValidationRule[];
  parseOptions: ParseOptions;
  operationLabel: OperationLabel;
}

export function edgePolicy(options: { partnerOperations: Map<string, string>; limits?: Partial<QueryLimits> }): EdgePolicy {
  const limits = queryLimitsFromEnv(options.limits);
  const { partnerOperations } = options;
  return {
    limits,
    identify: identityFromAuthorization,
    admit: (identity, request) => (isPartner(identity) ? admitPartnerOperation(partnerOperations, request) : {}),
    clientFacts,
    validationRules: limitRules(limits),
    parseOptions: parseOptions(limits),
    operationLabel: knownOperationLabel(knownOperationNames(partnerOperations.values())),
  };
}

export const isRefusal = (answer: { query?: string } | Refusal): answer is Refusal => 'code' in answer;

const refusalBody = (refusal: Refusal) => ({ errors: [{ message: refusal.message, extensions: { code: refusal.code } }] });

/** The policy on HTTP, after the JSON body is parsed (the identity is already in res.locals). */
export function httpAdmission(policy: EdgePolicy): RequestHandler {
  return (req, res, next) => {
    const identity = res.locals.identity as Identity | undefined;
    if (!isPartner(identity)) return next();
    // Partners send one persisted operation per POST (a GET would put the request in URLs and logs).
    if (req.method !== 'POST' || Array.isArray(req.body)) {
      res
        .status(400)
        .json(refusalBody({ status: 400, code: 'PERSISTED_QUERY_NOT_ALLOWED', message: 'partners send one persisted operation per POST request' }));
      return;
    }
    const body = (req.body ?? {}) as OperationRequest;
    const answer = policy.admit(identity, body);
    if (isRefusal(answer)) {
      res.status(answer.status).json(refusalBody(answer));
      return;
    }
    if (answer.query !== undefined) body.query = answer.query;
    next();
  };
}
