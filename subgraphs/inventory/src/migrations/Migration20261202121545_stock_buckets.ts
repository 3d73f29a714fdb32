import { Migration } from '@shop/kit';

export class Migration20261202121545_stock_buckets extends Migration {
  override name = 'Migration20261202121545_stock_buckets';

  override up(): void | Promise<void> {
    this.addSql(`alter table "inventory"."stock" drop constraint "stock_pkey";`);
    this.addSql(`alter table "inventory"."stock" add "bucket" int not null default 0;`);
    this.addSql(`alter table "inventory"."stock" add primary key ("sku_id", "warehouse_id", "bucket");`);
    this.addSql(`alter table "inventory"."stock" add constraint "stock_bucket_check" check (bucket >= 0);`);

    this.addSql(`alter table "inventory"."reservation" drop constraint "reservation_order_id_sku_id_warehouse_id_key";`);
    this.addSql(`alter table "inventory"."reservation" add "bucket" int not null default 0, add "returned" int not null default 0;`);
    this.addSql(
      `alter table "inventory"."reservation" add constraint "reservation_order_id_sku_id_warehouse_id_bucket_key" unique ("order_id", "sku_id", "warehouse_id", "bucket");`,
    );
    this.addSql(`alter table "inventory"."reservation" add constraint "reservation_returned_check" check (returned >= 0 and returned <= qty);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "inventory"."reservation" drop constraint "reservation_order_id_sku_id_warehouse_id_bucket_key";`);
    this.addSql(`alter table "inventory"."reservation" drop constraint "reservation_returned_check";`);
    this.addSql(`alter table "inventory"."reservation" drop column "bucket", drop column "returned";`);
    this.addSql(
      `alter table "inventory"."reservation" add constraint "reservation_order_id_sku_id_warehouse_id_key" unique ("order_id", "sku_id", "warehouse_id");`,
    );

    this.addSql(`alter table "inventory"."stock" drop constraint "stock_pkey";`);
    this.addSql(`alter table "inventory"."stock" drop constraint "stock_bucket_check";`);
    this.addSql(`alter table "inventory"."stock" drop column "bucket";`);
    this.addSql(`alter table "inventory"."stock" add primary key ("sku_id", "warehouse_id");`);
  }
}
