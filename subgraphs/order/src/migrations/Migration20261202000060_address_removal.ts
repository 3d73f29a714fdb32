import { Migration } from '@shop/kit';

/**
 * Removing an address hides it from its owner and from new previews; orders placed with it keep
 * showing where they ship. Editing an address removes it and adds the edited copy, for the same reason.
 */
export class Migration20261202000060_address_removal extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE address ADD COLUMN removed_at timestamptz`);
  }

  override down(): void {
    this.addSql('ALTER TABLE address DROP COLUMN removed_at');
  }
}
