import { Migration } from '@shop/kit';

/**
 * Risk control (seed §13, §17 example 10): rules as data, a blocklist, and the audit of every
 * decision that was not a plain ALLOW. Rules change by SQL or by the admin mutations, never by code.
 */
export class Migration20261124000020_risk extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE risk_rule (
        id text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('ORDERS_PER_USER', 'ORDERS_PER_IP', 'ORDERS_PER_DEVICE', 'PAYABLE_ABOVE', 'BLOCKLIST')),
        params jsonb NOT NULL DEFAULT '{}',
        action text NOT NULL CHECK (action IN ('REJECT', 'REVIEW')),
        enabled boolean NOT NULL DEFAULT true,
        updated_by text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // ORDERS_PER_*: an order is refused when the subject already placed `max` orders in the last `windowSeconds`.
    // PAYABLE_ABOVE: payable > amount (minor units; `currency` limits the rule to one currency when set).
    this.addSql(`
      INSERT INTO risk_rule (id, kind, params, action) VALUES
        ('user-velocity',   'ORDERS_PER_USER',   '{"max": 5, "windowSeconds": 600}',  'REJECT'),
        ('ip-velocity',     'ORDERS_PER_IP',     '{"max": 20, "windowSeconds": 600}', 'REJECT'),
        ('device-velocity', 'ORDERS_PER_DEVICE', '{"max": 10, "windowSeconds": 600}', 'REVIEW'),
        ('large-payable',   'PAYABLE_ABOVE',     '{"amount": 5000000}',               'REVIEW'),
        ('blocklist',       'BLOCKLIST',         '{}',                                'REJECT')`);

    this.addSql(`
      CREATE TABLE risk_blocklist (
        kind text NOT NULL CHECK (kind IN ('USER', 'DEVICE', 'IP')),
        value text NOT NULL,
        reason text NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, value)
      )`);

    this.addSql(`
      CREATE TABLE risk_decision (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id text NOT NULL,
        order_id text,
        rule_id text NOT NULL,
        action text NOT NULL CHECK (action IN ('REJECT', 'REVIEW')),
        facts jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    this.addSql(`CREATE INDEX risk_decision_user_idx ON risk_decision (user_id, created_at DESC)`);
    this.addSql(`CREATE INDEX risk_decision_order_idx ON risk_decision (order_id) WHERE order_id IS NOT NULL`);

    // Who placed an order from where, for the windowed counts; and the review flag of a REVIEW decision.
    this.addSql(`ALTER TABLE orders ADD COLUMN device_id text, ADD COLUMN client_ip text, ADD COLUMN risk_review boolean NOT NULL DEFAULT false`);
    this.addSql(`CREATE INDEX orders_user_created_idx ON orders (user_id, created_at)`);
    this.addSql(`CREATE INDEX orders_client_ip_created_idx ON orders (client_ip, created_at) WHERE client_ip IS NOT NULL`);
    this.addSql(`CREATE INDEX orders_device_created_idx ON orders (device_id, created_at) WHERE device_id IS NOT NULL`);
    this.addSql(`CREATE INDEX orders_risk_review_idx ON orders (created_at) WHERE risk_review`);
  }

  override down(): void {
    this.addSql('DROP INDEX orders_risk_review_idx');
    this.addSql('DROP INDEX orders_device_created_idx');
    this.addSql('DROP INDEX orders_client_ip_created_idx');
    this.addSql('DROP INDEX orders_user_created_idx');
    this.addSql('ALTER TABLE orders DROP COLUMN risk_review, DROP COLUMN client_ip, DROP COLUMN device_id');
    this.addSql('DROP TABLE risk_decision');
    this.addSql('DROP TABLE risk_blocklist');
    this.addSql('DROP TABLE risk_rule');
  }
}
