import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildSchema, parse, validate } from 'graphql';
import { Supergraph, printSchema } from '@apollo/federation-internals';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

describe('partner persisted-operation manifest', () => {
  const manifest = JSON.parse(readFileSync(here('./operations/partner-operations.json'), 'utf8')) as {
    operations: { id: string; name: string; body: string }[];
  };
  const api = buildSchema(printSchema(Supergraph.build(readFileSync(here('./supergraph.graphql'), 'utf8')).apiSchema()));

  it('has ids that are the SHA-256 of each body, and unique names', () => {
    for (const op of manifest.operations) expect(op.id, op.name).toBe(createHash('sha256').update(op.body).digest('hex'));
    expect(new Set(manifest.operations.map((o) => o.name)).size).toBe(manifest.operations.length);
  });

  it('holds only operations that are valid against the supergraph', () => {
    for (const op of manifest.operations)
      expect(
        validate(api, parse(op.body)).map((e) => e.message),
        op.name,
      ).toEqual([]);
  });
});
