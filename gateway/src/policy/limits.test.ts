import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Kind, Lexer, Source, TokenKind, parse, print, validate, type DefinitionNode, type DocumentNode } from 'graphql';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { readSupergraphSdl } from '../supergraph.js';
import { subscriptionSchema } from '../subscriptions/schema.js';
import { DEFAULT_LIMITS, limitRules, queryLimitsFromEnv, tokenLimitError, type LimitName } from './limits.js';

/**
 * The defaults are chosen so that a real client never meets them: this measures every operation of
 * the storefront (client/src/operations) and of the partner manifest, and requires each limit to be at
 * least ~1.5x (depth) to several times (the others) the most any of them uses.
 */
const schema = subscriptionSchema(readSupergraphSdl());
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

function operations(): { name: string; document: DocumentNode }[] {
  const dir = here('../../../client/src/operations');
  const client = parse(
    readdirSync(dir)
      .map((f) => readFileSync(`${dir}/${f}`, 'utf8'))
      .join('\n'),
  );
  const fragments = client.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  const used = (op: DefinitionNode): DocumentNode => ({ kind: Kind.DOCUMENT, definitions: [op, ...fragments] });
  const ops = client.definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION ? [{ name: d.name!.value, document: used(d) }] : []));
  const manifest = JSON.parse(readFileSync(here('../../../schema/operations/partner-operations.json'), 'utf8')) as {
    operations: { name: string; body: string }[];
  };
  return [...ops, ...manifest.operations.map((o) => ({ name: o.name, document: parse(o.body) }))];
}

const tokens = (text: string): number => {
  const lexer = new Lexer(new Source(text));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n += 1;
  return n;
};

/** What an operation uses of each limit, as GraphQL Armor counts it. */
function measure(document: DocumentNode): Record<LimitName, number> {
  const used: Partial<Record<LimitName, number>> = { tokens: tokens(print(document)) };
  const record = (name: LimitName) => ({ n: 1e9, maxCost: 1e9, onAccept: [(_: unknown, d: { n?: number; cost?: number }) => (used[name] = d.n ?? d.cost)] });
  const errors = validate(schema, document, [
    maxDepthRule(record('depth')),
    maxAliasesRule(record('aliases')),
    maxDirectivesRule(record('directives')),
    costLimitRule(record('cost')),
  ]);
  expect(errors).toEqual([]);
  return used as Record<LimitName, number>;
}

describe('query limits', () => {
  it('lets every storefront and partner operation through with room to spare', () => {
    const most: Record<LimitName, number> = { depth: 0, aliases: 0, directives: 0, tokens: 0, cost: 0 };
    for (const { name, document } of operations()) {
      const used = measure(document);
      for (const limit of Object.keys(most) as LimitName[]) most[limit] = Math.max(most[limit], used[limit]);
      expect(validate(schema, document, limitRules(DEFAULT_LIMITS)), name).toEqual([]);
    }
    // Measured: depth 7, aliases 0, directives 0, tokens ~200 (with every fragment), cost ~326 (Order).
    expect(most.depth * 1.5).toBeLessThanOrEqual(DEFAULT_LIMITS.depth);
    expect(most.tokens * 5).toBeLessThanOrEqual(DEFAULT_LIMITS.tokens);
    expect(most.cost * 10).toBeLessThanOrEqual(DEFAULT_LIMITS.cost);
    expect(most.aliases).toBeLessThan(DEFAULT_LIMITS.aliases);
    expect(most.directives).toBeLessThan(DEFAULT_LIMITS.directives);
  });

  it('reports every broken limit with its name and value', () => {
    const limits = { ...DEFAULT_LIMITS, aliases: 2, depth: 3 };
    const errors = validate(
      schema,
      parse('{ a: products { edges { node { id } } } b: products { edges { cursor } } c: sku(id: "x") { id } }'),
      limitRules(limits),
    );
    expect(errors.map((e) => e.extensions)).toEqual([
      { code: 'QUERY_LIMIT_EXCEEDED', limit: 'depth', max: 3, http: { status: 400 } },
      { code: 'QUERY_LIMIT_EXCEEDED', limit: 'aliases', max: 2, http: { status: 400 } },
    ]);
    expect(errors[1]!.message).toBe("The query exceeds the aliases limit of 2 (found 3); the server's GRAPHQL_MAX_ALIASES sets it");
  });

  it('turns the parser token limit into the same refusal', () => {
    expect(() => parse('{ a b c d }', { maxTokens: 3 })).toThrow();
    let message = '';
    try {
      parse('{ a b c d }', { maxTokens: 3 });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(tokenLimitError(message)?.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'tokens', max: 3 });
    expect(tokenLimitError('Syntax Error: Expected Name')).toBeUndefined();
  });

  it('reads each limit from its variable and refuses nonsense', () => {
    process.env.GRAPHQL_MAX_ALIASES = '7';
    try {
      expect(queryLimitsFromEnv().aliases).toBe(7);
      process.env.GRAPHQL_MAX_ALIASES = '0';
      expect(() => queryLimitsFromEnv()).toThrow(/GRAPHQL_MAX_ALIASES must be a positive integer/);
    } finally {
      delete process.env.GRAPHQL_MAX_ALIASES;
    }
  });
});
