import { Migration } from '@shop/kit';

/** The order subgraph's copy of the catalog's SKU facts (domain/prices.ts), fed by catalog.sku-changed. */
export class Migration20261202142158_price_copy extends Migration {
  override name = 'Migration20261202142158_price_copy';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "ordering"."sku_price" ("sku_id" text not null, "product_id" text not null, "title" text not null, "flash_sale" boolean not null, "flash_sale_starts_at" timestamptz null, "price" int not null, "currency" char(3) not null, "revision" int not null, "updated_at" timestamptz not null default now(), primary key ("sku_id"));`,
    );

    this.addSql(`alter table "ordering"."sku_price" add constraint "sku_price_price_check" check (price >= 0);`);
    this.addSql(`alter table "ordering"."sku_price" add constraint "sku_price_revision_check" check (revision >= 1);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "ordering"."sku_price" cascade;`);
  }
}
