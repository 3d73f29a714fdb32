import { Migration } from '@shop/kit';

/**
 * Stock per SKU and warehouse (seed-design §8.3: available / reserved / sold; on hand is their sum),
 * and reservations (§8.4) with one header per order that makes every command idempotent.
 */
export class Migration20261124000004_inventory extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE warehouse (
        id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    this.addSql(`
      CREATE TABLE stock (
        sku_id text NOT NULL,
        warehouse_id text NOT NULL REFERENCES warehouse (id),
        available integer NOT NULL CHECK (available >= 0),
        reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
        sold integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (sku_id, warehouse_id)
      )`);
    this.addSql(`
      CREATE TABLE reservation_order (
        order_id text PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('HOLD', 'CONFIRMED', 'RELEASED', 'REJECTED')),
        expire_at timestamptz NOT NULL,
        shortages jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    this.addSql(`CREATE INDEX reservation_order_hold_expire_idx ON reservation_order (expire_at) WHERE state = 'HOLD'`);
    this.addSql(`
      CREATE TABLE reservation (
        id text PRIMARY KEY,
        order_id text NOT NULL REFERENCES reservation_order (order_id),
        sku_id text NOT NULL,
        warehouse_id text NOT NULL REFERENCES warehouse (id),
        qty integer NOT NULL CHECK (qty > 0),
        state text NOT NULL CHECK (state IN ('HOLD', 'CONFIRMED', 'RELEASED')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (order_id, sku_id, warehouse_id)
      )`);
    this.addSql(`CREATE INDEX reservation_stock_state_idx ON reservation (sku_id, warehouse_id, state)`);
  }

  override down(): void {
    this.addSql('DROP TABLE reservation');
    this.addSql('DROP TABLE reservation_order');
    this.addSql('DROP TABLE stock');
    this.addSql('DROP TABLE warehouse');
  }
}
