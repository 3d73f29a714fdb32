import { Migration } from '@mikro-orm/migrations';

/**
 * Outbox and inbox tables, created in each subgraph's own schema (every subgraph lists this
 * migration first). The tracking table is per schema, so the same name is applied once per schema.
 */
export class Migration20261124000000_messaging extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE outbox (
        event_id text PRIMARY KEY,
        type text NOT NULL,
        routing_key text NOT NULL,
        body jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        published_at timestamptz,
        attempts int NOT NULL DEFAULT 0,
        last_error text
      )`);
    // The relay reads unpublished rows only; once published they leave this partial index.
    this.addSql(`CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL`);
    this.addSql(`
      CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('outbox_' || TG_TABLE_SCHEMA, ''); RETURN NULL; END $$`);
    this.addSql(`CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()`);
    this.addSql(`
      CREATE TABLE inbox (
        consumer text NOT NULL,
        event_id text NOT NULL,
        type text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
  }

  override down(): void {
    this.addSql('DROP TABLE inbox');
    this.addSql('DROP TRIGGER outbox_notify ON outbox');
    this.addSql('DROP FUNCTION outbox_notify()');
    this.addSql('DROP TABLE outbox');
  }
}

/**
 * An outbox row the broker could not route (no queue bound for its routing key) stays unpublished
 * and is tried again at retry_at, with the reason in last_error (the relay's unroutable handling).
 */
export class Migration20261202000001_outbox_unroutable extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE outbox ADD COLUMN retry_at timestamptz`);
  }
}

/**
 * Retention (retention.ts) deletes published outbox rows and old inbox rows in batches: each batch
 * finds its rows through these indexes instead of scanning the table.
 */
export class Migration20261202100000_retention extends Migration {
  override up(): void {
    this.addSql(`CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL`);
    this.addSql(`CREATE INDEX inbox_processed_idx ON inbox (processed_at)`);
  }
}

/**
 * Only a row the relay may publish now wakes it: a deferred row (retry_at set, such as a normal
 * order's held-back order.created) is taken by the relay's poll when due, and woke a relay pass
 * that found nothing to publish. PostgreSQL folds the notifications of one transaction on one
 * channel into one, so a row-level trigger notifies no more than the statement-level one did.
 */
export class Migration20261202143000_outbox_notify_ready extends Migration {
  override up(): void {
    this.addSql(`DROP TRIGGER outbox_notify ON outbox`);
    this.addSql(`CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH ROW WHEN (NEW.retry_at IS NULL) EXECUTE FUNCTION outbox_notify()`);
  }

  override down(): void {
    this.addSql(`DROP TRIGGER outbox_notify ON outbox`);
    this.addSql(`CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()`);
  }
}

/** The kit's messaging migrations, oldest first: every subgraph with an outbox lists these first. */
export const messagingMigrations = [
  Migration20261124000000_messaging,
  Migration20261202000001_outbox_unroutable,
  Migration20261202100000_retention,
  Migration20261202143000_outbox_notify_ready,
];
