import { Migration } from '@shop/kit';

export class Migration20261202065823_reservation_audit extends Migration {
  override name = 'Migration20261202065823_reservation_audit';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "inventory"."reservation_event" ("id" bigserial primary key, "order_id" text not null, "from_state" text not null, "to_state" text not null, "version" int not null, "payload" jsonb not null default '{}', "created_at" timestamptz not null default clock_timestamp());`,
    );
    this.addSql(`create index "reservation_event_order_idx" on "inventory"."reservation_event" ("order_id", "id");`);

    this.addSql(`alter table "inventory"."reservation_order" add "version" int not null default 1;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "inventory"."reservation_event" cascade;`);

    this.addSql(`alter table "inventory"."reservation_order" drop column "version";`);
  }
}
