import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';

/**
 * Queries go through typed Kysely or the ORM, so a renamed column breaks the build. An SQL string
 * is allowed only where neither applies, with its reason in a comment that says "SQL string" on
 * its line or one of the two lines above. Migrations (hand-written or generated) and the DDL builders
 * they run (files named `migration.ts` or `*-migration.ts`) are exempt, and so is test support
 * (`testing.ts`), like the tests.
 */
const subgraphs = fileURLToPath(new URL('../../../', import.meta.url));
const SQL = /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|LOCK|CREATE|ALTER|DROP|TRUNCATE|LISTEN|NOTIFY)\s+\S/i;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'dist', 'migrations'].includes(entry.name) ? [] : sources(path);
    return entry.name.endsWith('.ts') &&
      !entry.name.endsWith('.test.ts') &&
      entry.name !== 'testing.ts' &&
      !entry.name.endsWith('.d.ts') &&
      !entry.name.endsWith('migration.ts')
      ? [path]
      : [];
  });
}

function sqlStrings(file: string): { line: number; text: string; reasoned: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { line: number; text: string; reasoned: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    const literal =
      ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) ? node.text : ts.isTemplateExpression(node) ? node.head.text : undefined;
    if (literal !== undefined && SQL.test(literal)) {
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const reasoned = lines.slice(Math.max(0, line - 2), line + 1).some((l) => /SQL string/.test(l));
      found.push({ line: line + 1, text: literal.trim().slice(0, 60), reasoned });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

it('subgraph sources hold SQL strings only where no query builder applies, each with its reason', () => {
  const all = sources(subgraphs).flatMap((file) => sqlStrings(file).map((s) => ({ file: relative(subgraphs, file), ...s })));
  expect(all.filter((s) => !s.reasoned)).toEqual([]);
  // A handful at most, across the repository (see README, "One description of each table").
  expect(all.length).toBeLessThanOrEqual(10);
});
