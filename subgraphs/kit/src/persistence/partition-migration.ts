import type { PartitionSet } from './partitions.js';

// The DDL of partition sets, for migrations to run (exempt from the SQL-string rule as migrations
// are: kit/src/persistence/sql-strings.test.ts); the runtime side is partitions.ts.

/**
 * The migration statements that create the SQL functions of a partition set (run with the set's
 * schema on the search path, as migrations are): `<name>_id_floor(t)` the smallest id of a moment,
 * `<name>_id_time(id)` the moment of an id, `<name>_partitions_end()` and
 * `ensure_<name>_partitions(period_days, ahead_days)` (SECURITY DEFINER, so the data-only role may
 * run it; one maintainer at a time under an advisory lock; partitions are created apart and then
 * attached, which does not lock out live reads and writes of the parent).
 */
export function partitionFunctionsSql(set: PartitionSet): string[] {
  const { name, prefix, schema } = set;
  const parent = set.tables[0]![0];
  const tables = set.tables.map(([t]) => `'${t}'`).join(', ');
  return [
    `CREATE FUNCTION ${name}_id_floor(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
       SELECT '${prefix}_' || lpad(to_hex(floor(extract(epoch FROM t) * 1000)::bigint), 12, '0') || repeat('0', 20)
     $$`,
    `CREATE FUNCTION ${name}_id_time(id text) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
       SELECT to_timestamp((('x' || lpad(substr(id, ${prefix.length + 2}, 12), 16, '0'))::bit(64)::bigint) / 1000.0)
     $$`,
    `CREATE FUNCTION ${name}_partitions_end() RETURNS timestamptz LANGUAGE sql STABLE AS $$
       SELECT ${name}_id_time(max(substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \\(''(${prefix}_[0-9a-f]{32})''\\)')))
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = '${schema}.${parent}'::regclass
     $$`,
    `CREATE FUNCTION ensure_${name}_partitions(period_days integer, ahead_days integer) RETURNS integer
     LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${schema}, pg_temp AS $$
     DECLARE
       starts timestamptz;
       ends timestamptz;
       created integer := 0;
       suffix text;
       t text;
     BEGIN
       IF period_days < 1 OR ahead_days < 1 THEN
         RAISE EXCEPTION 'period_days and ahead_days must be at least 1 (got %, %)', period_days, ahead_days;
       END IF;
       PERFORM pg_advisory_xact_lock(hashtext('${schema}:ensure_${name}_partitions'));
       starts := coalesce(${name}_partitions_end(), date_trunc('day', now()));
       WHILE starts < now() + make_interval(days => ahead_days) LOOP
         ends := starts + make_interval(days => period_days);
         suffix := to_char(starts AT TIME ZONE 'UTC', 'YYYYMMDD');
         FOREACH t IN ARRAY ARRAY[${tables}] LOOP
           EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', t || '_p' || suffix, t);
           EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
             t, t || '_p' || suffix, ${name}_id_floor(starts), ${name}_id_floor(ends));
         END LOOP;
         created := created + 1;
         starts := ends;
       END LOOP;
       RETURN created;
     END $$`,
  ];
}

/**
 * The migration statements that turn the set's existing tables into partitioned ones with their
 * rows: each table is renamed, recreated partitioned by its key (with its columns, defaults and
 * checks), given the partition `<table>_p_before` for every id older than today, and the periods
 * from today on; the rows are copied once and the old tables dropped. Indexes, keys and foreign
 * keys are the migration's to create afterwards (the old ones go with the old tables; foreign keys
 * into them must be dropped before).
 */
export function convertToPartitionedSql(set: PartitionSet): string[] {
  const statements: string[] = [];
  for (const [table, key] of set.tables) {
    statements.push(`ALTER TABLE ${table} RENAME TO ${table}_unpartitioned`);
    statements.push(`CREATE TABLE ${table} (LIKE ${table}_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (${key})`);
    statements.push(`CREATE TABLE ${table}_p_before PARTITION OF ${table} FOR VALUES FROM (MINVALUE) TO (${set.name}_id_floor(date_trunc('day', now())))`);
  }
  statements.push(`SELECT ensure_${set.name}_partitions(7, 56)`);
  for (const [table] of set.tables) statements.push(`INSERT INTO ${table} SELECT * FROM ${table}_unpartitioned`);
  for (const [table] of [...set.tables].reverse()) statements.push(`DROP TABLE ${table}_unpartitioned`);
  return statements;
}

/**
 * The migration statement (and the `expression` of the entity's trigger) that keeps an
 * unpartitioned key table in step with a partitioned table whose unique constraints cannot include
 * its partition key: a row-level AFTER trigger `<keyTable>_sync` writes the key row of every
 * inserted or updated row (`values`: key column → expression over NEW) and deletes it with the row,
 * in the same transaction, so the key table's unique indexes refuse a duplicate whatever partitions
 * the rows are in. A writer may insert the key row first (to learn of a duplicate with ON CONFLICT
 * instead of an error): the trigger's write then changes nothing.
 */
export function keyTableSyncSql(options: {
  schema: string;
  table: string;
  keyTable: string;
  /** The key table's column holding the row's id. */
  idColumn: string;
  values: Record<string, string>;
  /** The columns whose update changes the key row. */
  watch: readonly string[];
}): string {
  const { schema, table, keyTable, idColumn } = options;
  const columns = Object.keys(options.values);
  return `CREATE FUNCTION ${keyTable}_sync() RETURNS trigger LANGUAGE plpgsql SET search_path = ${schema}, pg_temp AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM ${keyTable} WHERE ${idColumn} = OLD.id;
    RETURN NULL;
  END IF;
  INSERT INTO ${keyTable} AS k (${idColumn}, ${columns.join(', ')})
    VALUES (NEW.id, ${Object.values(options.values).join(', ')})
    ON CONFLICT (${idColumn}) DO UPDATE SET ${columns.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
      WHERE (${columns.map((c) => `k.${c}`).join(', ')}) IS DISTINCT FROM (${columns.map((c) => `EXCLUDED.${c}`).join(', ')});
  RETURN NULL;
END $$;
CREATE TRIGGER ${keyTable}_sync AFTER INSERT OR DELETE OR UPDATE OF ${options.watch.join(', ')} ON ${table} FOR EACH ROW EXECUTE FUNCTION ${keyTable}_sync()`;
}
