import { Migration } from '@shop/kit';

export class Migration20261202105014_drop_preview extends Migration {
  override name = 'Migration20261202105014_drop_preview';

  override up(): void | Promise<void> {
    this.addSql(`drop table if exists "ordering"."preview" cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(
      `create table "ordering"."preview" ("address_id" text null, "coupon_code" text null, "created_at" timestamptz(6) not null default now(), "currency" char(3) not null, "discount" int not null, "expires_at" timestamptz(6) not null, "flash_sale" boolean not null, "id" text not null, "lines" jsonb not null, "payable" int not null, "shipping_fee" int not null, "stock_check" text not null, "total" int not null, "user_id" text not null, primary key ("id"));`,
    );
  }
}
