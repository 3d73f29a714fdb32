import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What a process reads from its environment and which HTTP GET paths it serves, found in its source:
 * from the entry file, follow what is used, export by export. A file's exported declarations are
 * reached only when imported by name (so the gateway, which imports `envInt` from the kit's config,
 * is not said to read DATABASE_URL); its other top-level code counts whenever the file is reached.
 * The deployment tests (k8s.test.ts, compose.test.ts) check the manifests against this.
 */
export interface SourceReads {
  /** Environment variables read by name. */
  env: Set<string>;
  /** The subset read through the kit's secret(): these must come from a Secret. */
  secrets: Set<string>;
  /** Paths of `app.get('/path', ...)` routes. */
  routes: Set<string>;
}

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SUBGRAPH_NAMES = ['catalog', 'cart', 'order', 'inventory', 'payment', 'fulfillment'];

/** Workspace packages by import name, to their source entry. */
const PACKAGES: Record<string, string> = {
  '@shop/kit': 'subgraphs/kit/src/index.ts',
  '@shop/schema': 'schema/src/index.ts',
};

interface ParsedFile {
  /** local name → where it comes from */
  imports: Map<string, { file: string; name: string }>;
  /** exported name → its declaration text */
  exported: Map<string, string>;
  /** exported name → where it is re-exported from */
  reexports: Map<string, { file: string; name: string }>;
  /** files of `export * from` */
  star: string[];
  /** name → text of a top-level declaration that is not exported (reached when referenced) */
  locals: Map<string, string>;
  /** everything else at the top level (runs when the module loads) */
  rest: string;
  all: string;
}

const stripComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');

function resolveModule(from: string, specifier: string): string | undefined {
  if (PACKAGES[specifier]) return join(ROOT, PACKAGES[specifier]);
  if (!specifier.startsWith('.')) return undefined; // a dependency from node_modules
  const base = resolve(dirname(from), specifier).replace(/\.js$/, '');
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  throw new Error(`cannot resolve ${specifier} from ${from}`);
}

const cache = new Map<string, ParsedFile>();
function parse(file: string): ParsedFile {
  const cached = cache.get(file);
  if (cached) return cached;
  const all = stripComments(readFileSync(file, 'utf8'));
  const parsed: ParsedFile = { imports: new Map(), exported: new Map(), reexports: new Map(), star: [], locals: new Map(), rest: '', all };
  // Top-level statements start at column 0 (the repository is formatted by prettier); a line that
  // starts with a closing bracket continues the statement before it.
  const statements: string[] = [];
  for (const line of all.split('\n')) {
    if (statements.length > 0 && (line === '' || /^[\s})\]]/.test(line))) statements[statements.length - 1] += `\n${line}`;
    else statements.push(line);
  }
  for (const statement of statements) {
    const from = /from\s+['"]([^'"]+)['"]/.exec(statement)?.[1];
    if (/^import\s/.test(statement)) {
      const target = from ? resolveModule(file, from) : undefined;
      if (!target) continue;
      const named = /\{([^}]*)\}/.exec(statement)?.[1];
      for (const part of named?.split(',') ?? []) {
        const m = /^\s*(?:type\s+)?(\w+)(?:\s+as\s+(\w+))?\s*$/.exec(part);
        if (m) parsed.imports.set(m[2] ?? m[1]!, { file: target, name: m[1]! });
      }
      const whole = /^import\s+(?:\*\s+as\s+)?(\w+)/.exec(statement)?.[1];
      if (whole && whole !== 'type') parsed.imports.set(whole, { file: target, name: '*' });
      continue;
    }
    if (/^export\s+\*\s+from/.test(statement)) {
      const target = from ? resolveModule(file, from) : undefined;
      if (target) parsed.star.push(target);
      continue;
    }
    if (/^export\s+(?:type\s+)?\{/.test(statement)) {
      const target = from ? resolveModule(file, from) : undefined;
      for (const part of /\{([^}]*)\}/.exec(statement)![1]!.split(',')) {
        const m = /^\s*(?:type\s+)?(\w+)(?:\s+as\s+(\w+))?\s*$/.exec(part);
        if (!m) continue;
        if (target) parsed.reexports.set(m[2] ?? m[1]!, { file: target, name: m[1]! });
        else if (!from) parsed.rest += `\n${m[1]}`;
      }
      continue;
    }
    const declared =
      /^export\s+(?:default\s+)?(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|var|class|interface|type|enum|abstract\s+class)\s+(\w+)/.exec(statement);
    if (declared) {
      parsed.exported.set(declared[1]!, statement);
      continue;
    }
    // A local function or class runs only when referenced; a local const's initializer runs at load.
    const local = /^(?:async\s+)?(?:function\*?|class)\s+(\w+)/.exec(statement);
    if (local) parsed.locals.set(local[1]!, statement);
    else parsed.rest += `\n${statement}`;
  }
  cache.set(file, parsed);
  return parsed;
}

const ENV_PATTERNS = [
  /process\.env\.([A-Z][A-Z0-9_]*)/g,
  /process\.env\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g,
  /\benv(?:Int|String|Bool|Number)\(\s*['"]([A-Z][A-Z0-9_]*)['"]/g,
];

/** Reads of one process, from its entry source file (relative to the repository root). */
export function sourceReads(entry: string): SourceReads {
  const reads: SourceReads = { env: new Set(), secrets: new Set(), routes: new Set() };
  const seen = new Set<string>();
  const scan = (file: string, text: string, parsed: ParsedFile) => {
    for (const pattern of ENV_PATTERNS) for (const m of text.matchAll(pattern)) reads.env.add(m[1]!);
    for (const m of text.matchAll(/\bsecret\(\s*['"]([A-Z][A-Z0-9_]*)['"]/g)) {
      reads.env.add(m[1]!);
      reads.secrets.add(m[1]!);
    }
    for (const m of text.matchAll(/\bsubgraphPort\(\s*['"](\w+)['"]/g)) reads.env.add(`${m[1]!.toUpperCase()}_PORT`);
    for (const m of text.matchAll(/\bsubgraphUrl\(\s*(['"](\w+)['"])?/g)) {
      // subgraphUrl(target) with a name known only at run time: any subgraph's address.
      for (const name of m[2] ? [m[2]] : SUBGRAPH_NAMES) reads.env.add(`${name.toUpperCase()}_URL`);
    }
    for (const m of text.matchAll(/\bapp\.get\(\s*['"`](\/[^'"`]*)['"`]/g)) reads.routes.add(m[1]!);
    for (const m of text.matchAll(/\b[A-Za-z_$][\w$]*\b/g)) {
      const source = parsed.imports.get(m[0]);
      if (source) visit(source.file, source.name);
      else if (parsed.exported.has(m[0]) || parsed.locals.has(m[0])) visit(file, m[0]);
    }
  };
  const visit = (file: string, name: string): boolean => {
    const key = `${file}#${name}`;
    if (seen.has(key)) return true;
    const parsed = parse(file);
    if (name === '*') {
      seen.add(key);
      scan(file, parsed.all, parsed);
      for (const target of parsed.star) visit(target, '*');
      for (const r of parsed.reexports.values()) visit(r.file, r.name);
      return true;
    }
    const declaration = parsed.exported.get(name) ?? parsed.locals.get(name);
    const reexport = parsed.reexports.get(name);
    if (!declaration && !reexport && !parsed.star.some((target) => exports(target, name))) return false;
    seen.add(key);
    if (!seen.has(`${file}#`)) {
      seen.add(`${file}#`);
      scan(file, parsed.rest, parsed);
    }
    if (declaration) scan(file, declaration, parsed);
    else if (reexport) visit(reexport.file, reexport.name);
    else for (const target of parsed.star) if (exports(target, name)) visit(target, name);
    return true;
  };
  visit(join(ROOT, entry), '*');
  return reads;
}

function exports(file: string, name: string): boolean {
  const parsed = parse(file);
  return parsed.exported.has(name) || parsed.reexports.has(name) || parsed.star.some((target) => exports(target, name));
}
