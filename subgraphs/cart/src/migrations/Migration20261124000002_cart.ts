import { Migration } from '@shop/kit';

/** One row per SKU in a user's cart; `currency` is the SKU's currency when added (a cart holds one currency). */
export class Migration20261124000002_cart extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE cart_line (
        user_id text NOT NULL,
        sku_id text NOT NULL,
        qty integer NOT NULL CHECK (qty BETWEEN 1 AND 99),
        currency char(3) NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, sku_id)
      )`);
  }

  override down(): void {
    this.addSql('DROP TABLE cart_line');
  }
}
