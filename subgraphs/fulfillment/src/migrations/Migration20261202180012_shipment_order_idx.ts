import { Migration } from '@shop/kit';

/**
 * The shipments of an order by order id, on every partition (built on the parent, so partitions created
 * later get it too): lookups by order of orders whose key rows were pruned read the partitions through it
 * (SHIPMENT_KEY_RETENTION_DAYS, domain/partitions.ts).
 */
export class Migration20261202180012_shipment_order_idx extends Migration {
  override name = 'Migration20261202180012_shipment_order_idx';

  override up(): void | Promise<void> {
    this.addSql(`create index "shipment_order_idx" on "fulfillment"."shipment" ("order_id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "fulfillment"."shipment_order_idx";`);
  }
}
