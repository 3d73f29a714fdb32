import { Migration } from '@shop/kit';

export class Migration20261202112000_flash_sale_starts_at extends Migration {
  override name = 'Migration20261202112000_flash_sale_starts_at';

  override up(): void | Promise<void> {
    this.addSql(`alter table "catalog"."sku" add "flash_sale_starts_at" timestamptz null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "catalog"."sku" drop column "flash_sale_starts_at";`);
  }
}
