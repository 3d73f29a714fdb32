import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';

/**
 * A statement built and compiled once, then run with new parameters: for the statements every order
 * sends (today inventory's reservations), whose Kysely building and compiling cost the order and
 * inventory subgraphs 10–25% of their CPU in `npm run bench:orders` profiles, for SQL text that is
 * the same every time. The SQL is not a server-side prepared statement (those break
 * when a migration changes a table's columns, and behind PgBouncer): only the client's work is saved.
 *
 * `build` receives the parameters as placeholders and must pass each one to Kysely as a value (a
 * column value, `eb.val(p.x)`, a `sql` template's `${p.x}`); the first build checks that every
 * placeholder it read reached the statement's parameters. A placeholder used in JavaScript (in a
 * string, arithmetic, JSON.stringify) throws at once, and one read but never bound (`p.lines.length`)
 * throws when the build ends. What changes the
 * statement's text (how many rows a VALUES list has, an optional column) is its shape: `shapeOf`
 * answers it from the parameters, `build` receives it, and each shape is built once.
 */
export interface Prepared<Db, P, R> {
  (db: Kysely<Db>, params: P): Promise<QueryResult<R>>;
  /** The SQL text of one shape (tests, EXPLAIN). */
  sqlOf(db: Kysely<Db>, params: P): string;
}

/** Stands for one parameter while a prepared statement is built; any use as a JavaScript value throws. */
class Placeholder {
  constructor(readonly name: string) {}
  private misuse(): never {
    throw new Error(`prepared statement: parameter "${this.name}" was used as a JavaScript value; pass it to the query as a value`);
  }
  toString(): string {
    return this.misuse();
  }
  valueOf(): never {
    return this.misuse();
  }
  toJSON(): never {
    return this.misuse();
  }
  [Symbol.toPrimitive](): never {
    return this.misuse();
  }
}

interface Compiled {
  sql: string;
  /** Per parameter position: the name of the caller's parameter, or the constant the build put there. */
  slots: ({ name: string } | { constant: unknown })[];
}

function compile<Db, P, S>(db: Kysely<Db>, build: (db: Kysely<Db>, params: P, shape: S) => Compilable<unknown>, shape: S): Compiled {
  const read = new Set<string>();
  const placeholders = new Proxy({} as Record<string, Placeholder>, {
    get(target, name) {
      if (typeof name !== 'string') return undefined;
      read.add(name);
      return (target[name] ??= new Placeholder(name));
    },
  }) as unknown as P;
  const compiled = build(db, placeholders, shape).compile();
  const slots = compiled.parameters.map((value) => (value instanceof Placeholder ? { name: value.name } : { constant: value }));
  const bound = new Set(slots.flatMap((s) => ('name' in s ? [s.name] : [])));
  const lost = [...read].filter((name) => !bound.has(name));
  if (lost.length) throw new Error(`prepared statement: parameter(s) ${lost.join(', ')} read but not bound as values`);
  return { sql: compiled.sql, slots };
}

/**
 * Builds `build`'s statement once per shape (`shapeOf`'s answer; one shape without it) and runs it with the
 * caller's parameters on `db` (a transaction's Kysely, or the pool's).
 */
export function prepared<Db, P extends Record<string, unknown>, R, S extends string | number | undefined = undefined>(
  build: (db: Kysely<Db>, params: P, shape: S) => Compilable<R>,
  shapeOf?: (params: P) => S,
): Prepared<Db, P, R> {
  const shapes = new Map<S, Compiled>();
  const compiledFor = (db: Kysely<Db>, params: P): Compiled => {
    const shape = shapeOf?.(params) as S;
    let compiled = shapes.get(shape);
    if (!compiled) {
      compiled = compile(db, build, shape);
      shapes.set(shape, compiled);
    }
    return compiled;
  };
  const run = async (db: Kysely<Db>, params: P): Promise<QueryResult<R>> => {
    const { sql, slots } = compiledFor(db, params);
    const values = slots.map((slot) => ('name' in slot ? params[slot.name] : slot.constant));
    return db.executeQuery<R>(CompiledQuery.raw(sql, values));
  };
  return Object.assign(run, { sqlOf: (db: Kysely<Db>, params: P) => compiledFor(db, params).sql });
}
