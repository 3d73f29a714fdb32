import { Migration } from '@shop/kit';

export class Migration20261124000006_fulfillment extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE shipment (
        id text PRIMARY KEY,
        order_id text NOT NULL,
        user_id text,
        warehouse_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'PACKED', 'SHIPPED', 'DELIVERED')),
        tracking_number text,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        -- One shipment per warehouse of an order: a redelivered stock-confirmed creates nothing new.
        UNIQUE (order_id, warehouse_id)
      )`);
    this.addSql(`
      CREATE TABLE shipment_item (
        shipment_id text NOT NULL REFERENCES shipment (id),
        sku_id text NOT NULL,
        qty integer NOT NULL CHECK (qty > 0),
        unit_price integer NOT NULL CHECK (unit_price >= 0),
        currency char(3) NOT NULL,
        PRIMARY KEY (shipment_id, sku_id)
      )`);
    this.addSql(`
      CREATE TABLE shipment_event (
        id bigserial PRIMARY KEY,
        shipment_id text NOT NULL,
        order_id text NOT NULL,
        type text NOT NULL,
        actor text,
        payload jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    this.addSql(`CREATE INDEX shipment_event_shipment_idx ON shipment_event (shipment_id, id)`);
  }

  override down(): void {
    this.addSql('DROP TABLE shipment_event');
    this.addSql('DROP TABLE shipment_item');
    this.addSql('DROP TABLE shipment');
  }
}
