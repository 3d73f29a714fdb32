import { GraphQLError, type ParseOptions, type ValidationContext, type ValidationRule } from 'graphql';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { envInt } from '@shop/kit';

/**
 * Query limits, checked before anything is planned or sent to a subgraph, the same for every
 * transport (HTTP, and queries, mutations and subscriptions over graphql-ws). Depth, aliases,
 * directives and cost are GraphQL Armor's validation rules; tokens is graphql-js's own parser
 * limit. The defaults are several times what the storefront's operations
 * (client/src/operations/*.graphql) and the partner operations use (see limits.test.ts, which
 * measures them, and README "Configuration").
 */
export interface QueryLimits {
  /** Deepest field nesting (GRAPHQL_MAX_DEPTH). */
  depth: number;
  /** Aliased fields in an operation, fragments included (GRAPHQL_MAX_ALIASES). */
  aliases: number;
  /** Directives in an operation (GRAPHQL_MAX_DIRECTIVES). */
  directives: number;
  /** Lexical tokens of the document: stops a huge document before it is even parsed in full (GRAPHQL_MAX_TOKENS). */
  tokens: number;
  /** GraphQL Armor's cost: 2 per object field, 1 per scalar, x1.5 per level of depth (GRAPHQL_MAX_COST). */
  cost: number;
}

export type LimitName = keyof QueryLimits;

export const LIMIT_VARIABLES: Record<LimitName, string> = {
  depth: 'GRAPHQL_MAX_DEPTH',
  aliases: 'GRAPHQL_MAX_ALIASES',
  directives: 'GRAPHQL_MAX_DIRECTIVES',
  tokens: 'GRAPHQL_MAX_TOKENS',
  cost: 'GRAPHQL_MAX_COST',
};

export const DEFAULT_LIMITS: QueryLimits = { depth: 12, aliases: 30, directives: 20, tokens: 2000, cost: 5000 };

export function queryLimitsFromEnv(overrides: Partial<QueryLimits> = {}): QueryLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const name of Object.keys(LIMIT_VARIABLES) as LimitName[]) {
    limits[name] = overrides[name] ?? envInt(LIMIT_VARIABLES[name], DEFAULT_LIMITS[name]);
    if (limits[name] < 1) throw new Error(`${LIMIT_VARIABLES[name]} must be a positive integer, got ${limits[name]}`);
  }
  return limits;
}

/** The public code of a request refused by a query limit. */
export const QUERY_LIMIT_EXCEEDED = 'QUERY_LIMIT_EXCEEDED';

/** The refusal: which limit, its value, what the request had; extensions `limit` and `max` say it to programs. */
export const limitError = (limit: LimitName, max: number, detail: string): GraphQLError =>
  new GraphQLError(`The query exceeds the ${limit} limit of ${max}${detail ? ` (${detail})` : ''}; the server's ${LIMIT_VARIABLES[limit]} sets it`, {
    extensions: { code: QUERY_LIMIT_EXCEEDED, limit, max, http: { status: 400 } },
  });

/** GraphQL Armor found `found` in its message ("Aliases limit of 15 exceeded, found 300."). */
const foundIn = (error: GraphQLError): string => {
  const found = /found (\d+(?:\.\d+)?)/.exec(error.message)?.[1];
  return found ? `found ${found}` : '';
};

/** Armor reports through our error (never throws), so every limit a request breaks is reported, as validation errors. */
const reporting =
  (limit: LimitName, max: number) =>
  (ctx: ValidationContext | null, error: GraphQLError): void =>
    ctx?.reportError(limitError(limit, max, foundIn(error)));

const armor = (limit: LimitName, max: number) => ({ exposeLimits: true, propagateOnRejection: false, onReject: [reporting(limit, max)] });

/** The validation rules of the limits (Apollo Server's validationRules, and the subscription validation). */
export function limitRules(limits: QueryLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.depth, ...armor('depth', limits.depth) }),
    maxAliasesRule({ n: limits.aliases, ...armor('aliases', limits.aliases) }),
    maxDirectivesRule({ n: limits.directives, ...armor('directives', limits.directives) }),
    costLimitRule({ maxCost: limits.cost, ...armor('cost', limits.cost) }),
  ] as ValidationRule[];
}

export const parseOptions = (limits: QueryLimits): ParseOptions => ({ maxTokens: limits.tokens });

const TOKENS = /contains more tha[nt] (\d+) tokens/;

/** graphql-js's parser error for a document over maxTokens, turned into the limit's refusal; other errors: undefined. */
export function tokenLimitError(message: string): GraphQLError | undefined {
  const max = TOKENS.exec(message)?.[1];
  return max ? limitError('tokens', Number(max), '') : undefined;
}
