import { Migration } from '@shop/kit';

export class Migration20261202072143_refund_version extends Migration {
  override name = 'Migration20261202072143_refund_version';

  override up(): void | Promise<void> {
    this.addSql(`alter table "ordering"."refund_request" add "version" int not null default 1;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "ordering"."refund_request" drop column "version";`);
  }
}
