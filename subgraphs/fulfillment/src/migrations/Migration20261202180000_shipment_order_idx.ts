import { Migration } from '@shop/kit';

/**
 * The shipments of an order by order id, on every partition: the lookup by order of an order whose
 * key rows were pruned (SHIPMENT_KEY_RETENTION_DAYS, domain/partitions.ts) reads the partitions
 * through it. Built on the parent, so every partition, and those created ahead later, get it.
 */
export class Migration20261202180000_shipment_order_idx extends Migration {
  override up(): void {
    this.addSql(`CREATE INDEX shipment_order_idx ON shipment (order_id)`);
  }
}
