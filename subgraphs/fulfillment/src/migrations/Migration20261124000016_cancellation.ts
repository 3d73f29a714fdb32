import { Migration } from '@shop/kit';

/** Shipments can be canceled (refund before shipping); a canceled order gets no shipments later. */
export class Migration20261124000016_cancellation extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE shipment DROP CONSTRAINT shipment_status_check`);
    this.addSql(`ALTER TABLE shipment ADD CONSTRAINT shipment_status_check CHECK (status IN ('PENDING', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELED'))`);
    this.addSql(`CREATE TABLE canceled_order (order_id text PRIMARY KEY, reason text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
  }
}
