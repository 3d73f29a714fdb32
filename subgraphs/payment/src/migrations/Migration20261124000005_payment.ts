import { Migration } from '@shop/kit';

export class Migration20261124000005_payment extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE payment (
        id text PRIMARY KEY,
        order_id text NOT NULL,
        user_id text NOT NULL,
        amount integer NOT NULL CHECK (amount > 0),
        currency char(3) NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED')),
        psp_intent_id text,
        checkout_url text,
        payment_txn_id text,
        flagged_reason text,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    // One active payment per order: a second payOrder finds this one instead of charging twice.
    this.addSql(`CREATE UNIQUE INDEX payment_one_active_per_order ON payment (order_id) WHERE status IN ('PENDING', 'SUCCEEDED')`);
    this.addSql(`CREATE INDEX payment_order_idx ON payment (order_id, created_at DESC)`);
    this.addSql(`CREATE UNIQUE INDEX payment_txn_idx ON payment (payment_txn_id) WHERE payment_txn_id IS NOT NULL`);
    this.addSql(`CREATE INDEX payment_updated_idx ON payment (updated_at)`);
    this.addSql(`
      CREATE TABLE payment_callback (
        event_id text PRIMARY KEY,
        payment_txn_id text NOT NULL,
        payment_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('SUCCEEDED', 'FAILED', 'REFUNDED')),
        amount integer NOT NULL,
        currency text NOT NULL,
        occurred_at timestamptz NOT NULL,
        raw jsonb NOT NULL,
        source text NOT NULL DEFAULT 'provider' CHECK (source IN ('provider', 'reconciliation')),
        received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        outcome text,
        -- The provider re-sends one paymentTxnId with status REFUNDED for a refund: the key is both.
        UNIQUE (payment_txn_id, status)
      )`);
    this.addSql(`CREATE INDEX payment_callback_payment_idx ON payment_callback (payment_id)`);
    this.addSql(`
      CREATE TABLE refund (
        id text PRIMARY KEY,
        payment_id text NOT NULL REFERENCES payment (id),
        order_id text NOT NULL,
        amount integer NOT NULL CHECK (amount > 0),
        currency char(3) NOT NULL,
        status text NOT NULL CHECK (status IN ('REQUESTED', 'SUCCEEDED', 'FAILED')),
        reason text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('AFTER_SALE', 'COMPENSATION')),
        psp_refund_id text,
        error text,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    this.addSql(`CREATE INDEX refund_payment_idx ON refund (payment_id)`);
    this.addSql(`
      CREATE TABLE payment_event (
        id bigserial PRIMARY KEY,
        payment_id text NOT NULL,
        type text NOT NULL,
        payload jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    this.addSql(`CREATE INDEX payment_event_payment_idx ON payment_event (payment_id, id)`);
  }

  override down(): void {
    this.addSql('DROP TABLE payment_event');
    this.addSql('DROP TABLE refund');
    this.addSql('DROP TABLE payment_callback');
    this.addSql('DROP TABLE payment');
  }
}
