import { Migration } from '@shop/kit';

/** A refund of a partly shipped order remembers the quantities of the parcels it stopped. */
export class Migration20261202000040_refund_policy extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE refund_request ADD COLUMN restock_items jsonb`);
  }
}
