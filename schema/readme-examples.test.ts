import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildSchema, parse, validate } from 'graphql';
import { Supergraph, printSchema } from '@apollo/federation-internals';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** The README's GraphQL examples must stay valid against the supergraph: docs that a newcomer copies. */
describe('README examples', () => {
  const api = buildSchema(printSchema(Supergraph.build(readFileSync(here('./supergraph.graphql'), 'utf8')).apiSchema()));
  const readme = readFileSync(here('../README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const inline = [...readme.matchAll(/"query":\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
  const subscriptions = [...readme.matchAll(/query: '(subscription[^']*)'/g)].map((m) => m[1]!);
  const documents = [
    ...blocks.flatMap((b) =>
      b
        .split('\n')
        .filter((l) => l.trim() && !l.trim().startsWith('#'))
        .map((l) => l.replace(/#.*$/, '')),
    ),
    ...inline,
    ...subscriptions,
  ];

  it('has examples to check', () => {
    expect(documents.length).toBeGreaterThanOrEqual(7);
  });

  it('holds only operations valid against the supergraph', () => {
    for (const doc of documents)
      expect(
        validate(api, parse(doc)).map((e) => e.message),
        doc,
      ).toEqual([]);
  });
});
