import { Migration } from '@shop/kit';

/**
 * Orders, their items and their audit trail become range-partitioned by order id (README "Data that
 * grows"). Order ids are `ord_` + a UUIDv7, whose first 12 hex digits are its creation time in
 * milliseconds, so a range of ids is a range of time: an order's id names its partition, a query by
 * id reads one partition, and the primary key (id) is the partition key, so it stays unique across
 * partitions. Items and audit rows are partitioned by their order's id with the same bounds, so an
 * order and everything it owns live in partitions of one period. The idempotency keys of placeOrder
 * (order_request) stay in an unpartitioned table, whose primary key (user_id, client_req_id) is
 * enforced whatever partition the orders land in.
 *
 * Partitions are created ahead by `ensure_order_partitions(period_days, ahead_days)` (the order
 * subgraph's partition job calls it, partitions.ts; SECURITY DEFINER, so the data-only role may run
 * it); the partition `*_p_before` holds every order older than the first period, which is where the
 * rows that exist at this migration go. Converting copies the rows once, under this migration's lock.
 *
 * coupon_use keeps its rows when an order is archived (the per-user coupon limits count them), so
 * its foreign key to orders goes; the archive schema ordering_archive holds archived orders with
 * their items, audit trail, idempotency keys and refunds (npm run archive, archive.ts).
 */
export class Migration20261202110000_partitions extends Migration {
  override up(): void {
    // The smallest order id of a moment, and the moment of an order id.
    this.addSql(`
      CREATE FUNCTION order_id_floor(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT 'ord_' || lpad(to_hex(floor(extract(epoch FROM t) * 1000)::bigint), 12, '0') || repeat('0', 20)
      $$`);
    this.addSql(`
      CREATE FUNCTION order_id_time(id text) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT to_timestamp((('x' || lpad(substr(id, 5, 12), 16, '0'))::bit(64)::bigint) / 1000.0)
      $$`);
    // Where the last partition of orders ends (null before the first): partitions.ts reports how far ahead that is.
    this.addSql(`
      CREATE FUNCTION order_partitions_end() RETURNS timestamptz LANGUAGE sql STABLE AS $$
        SELECT order_id_time(max(substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \\(''(ord_[0-9a-f]{32})''\\)')))
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'ordering.orders'::regclass
      $$`);
    // Creates the partitions of orders, order_item and order_event from the end of the last one (or
    // today) until ahead_days from now, period_days each; answers how many periods it created.
    this.addSql(`
      CREATE FUNCTION ensure_order_partitions(period_days integer, ahead_days integer) RETURNS integer
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = ordering, pg_temp AS $$
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
        -- One maintainer at a time (replicas, the migration): the advisory lock ends with the transaction.
        PERFORM pg_advisory_xact_lock(hashtext('ordering:ensure_order_partitions'));
        starts := coalesce(order_partitions_end(), date_trunc('day', now()));
        WHILE starts < now() + make_interval(days => ahead_days) LOOP
          ends := starts + make_interval(days => period_days);
          suffix := to_char(starts AT TIME ZONE 'UTC', 'YYYYMMDD');
          -- Created apart, then attached: ATTACH takes a SHARE UPDATE EXCLUSIVE lock on the parent, which
          -- live reads and writes do not wait for (CREATE TABLE ... PARTITION OF would lock them out).
          FOREACH t IN ARRAY ARRAY['orders', 'order_item', 'order_event'] LOOP
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', t || '_p' || suffix, t);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
              t, t || '_p' || suffix, order_id_floor(starts), order_id_floor(ends));
          END LOOP;
          created := created + 1;
          starts := ends;
        END LOOP;
        RETURN created;
      END $$`);

    // The foreign keys into orders go with the old table; they come back on the partitioned one.
    this.addSql(`ALTER TABLE order_request DROP CONSTRAINT order_request_order_id_fkey`);
    this.addSql(`ALTER TABLE coupon_use DROP CONSTRAINT coupon_use_order_id_fkey`);
    this.addSql(`ALTER TABLE refund_request DROP CONSTRAINT refund_request_order_id_fkey`);
    for (const table of ['orders', 'order_item', 'order_event']) {
      this.addSql(`ALTER TABLE ${table} RENAME TO ${table}_unpartitioned`);
      const key = table === 'orders' ? 'id' : 'order_id';
      this.addSql(`CREATE TABLE ${table} (LIKE ${table}_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (${key})`);
      this.addSql(`CREATE TABLE ${table}_p_before PARTITION OF ${table} FOR VALUES FROM (MINVALUE) TO (order_id_floor(date_trunc('day', now())))`);
    }
    this.addSql(`SELECT ensure_order_partitions(7, 56)`);
    for (const table of ['orders', 'order_item', 'order_event']) this.addSql(`INSERT INTO ${table} SELECT * FROM ${table}_unpartitioned`);
    for (const table of ['order_event', 'order_item', 'orders']) this.addSql(`DROP TABLE ${table}_unpartitioned`);

    this.addSql(`ALTER TABLE orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id)`);
    this.addSql(`CREATE INDEX orders_user_idx ON orders (user_id, id DESC)`);
    this.addSql(`CREATE INDEX orders_expiry_idx ON orders (expire_at) WHERE status IN ('CREATED', 'PENDING_PAYMENT')`);
    this.addSql(`CREATE INDEX orders_user_created_idx ON orders (user_id, created_at)`);
    this.addSql(`CREATE INDEX orders_client_ip_created_idx ON orders (client_ip, created_at) WHERE client_ip IS NOT NULL`);
    this.addSql(`CREATE INDEX orders_device_created_idx ON orders (device_id, created_at) WHERE device_id IS NOT NULL`);
    this.addSql(`CREATE INDEX orders_risk_review_idx ON orders (created_at) WHERE risk_review`);
    this.addSql(`CREATE INDEX orders_in_review_idx ON orders (id) WHERE status = 'REVIEW'`);

    this.addSql(`ALTER TABLE order_item ADD CONSTRAINT order_item_pkey PRIMARY KEY (order_id, sku_id)`);
    this.addSql(`ALTER TABLE order_item ADD CONSTRAINT order_item_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id)`);

    // An audit row is unique per order (the partition key must be part of a partitioned table's primary key).
    this.addSql(`ALTER TABLE order_event ADD CONSTRAINT order_event_pkey PRIMARY KEY (order_id, id)`);
    this.addSql(`ALTER TABLE order_event ADD CONSTRAINT order_event_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id)`);
    this.addSql(`CREATE INDEX order_event_order_idx ON order_event (order_id, created_at DESC)`);

    this.addSql(
      `ALTER TABLE order_request ADD CONSTRAINT order_request_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED`,
    );
    this.addSql(`ALTER TABLE refund_request ADD CONSTRAINT refund_request_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id)`);

    // The archive: the same columns, plain tables (archived orders are read by id and by user, rarely).
    this.addSql(`CREATE SCHEMA IF NOT EXISTS ordering_archive`);
    for (const table of ['orders', 'order_item', 'order_event', 'order_request', 'refund_request']) {
      this.addSql(`CREATE TABLE ordering_archive.${table} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    }
    this.addSql(`ALTER TABLE ordering_archive.orders ADD PRIMARY KEY (id)`);
    this.addSql(`CREATE INDEX ON ordering_archive.orders (user_id, id DESC)`);
    this.addSql(`ALTER TABLE ordering_archive.order_item ADD PRIMARY KEY (order_id, sku_id)`);
    this.addSql(`ALTER TABLE ordering_archive.order_event ADD PRIMARY KEY (order_id, id)`);
    this.addSql(`ALTER TABLE ordering_archive.order_request ADD PRIMARY KEY (user_id, client_req_id)`);
    this.addSql(`ALTER TABLE ordering_archive.refund_request ADD PRIMARY KEY (id)`);
    this.addSql(`CREATE INDEX ON ordering_archive.refund_request (order_id)`);
  }
}
