import { Migration } from '@shop/kit';

/** The stopped parcels of a partly shipped, refunded order whose stock went back to available: once per order. */
export class Migration20261202000014_returns extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE reservation_return (
        order_id text PRIMARY KEY REFERENCES reservation_order (order_id),
        items jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }
}
