import { Migration } from '@shop/kit';

/** A SKU's revision: catalog.sku-changed carries it, so the order subgraph's price copy keeps the newest facts. */
export class Migration20261202140000_sku_revision extends Migration {
  override name = 'Migration20261202140000_sku_revision';

  override up(): void | Promise<void> {
    this.addSql(`alter table "catalog"."sku" add "revision" int not null default 1;`);
    this.addSql(`alter table "catalog"."sku" add constraint sku_revision_check check(revision >= 1);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "catalog"."sku" drop constraint sku_revision_check;`);
    this.addSql(`alter table "catalog"."sku" drop column "revision";`);
  }
}
