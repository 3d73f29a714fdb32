import { Migration } from '@shop/kit';

/** Product images (paths or URLs, first one is the cover) and a category slug for browsing. */
export class Migration20261202000002_product_media extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE product ADD COLUMN images text[] NOT NULL DEFAULT '{}' CHECK (cardinality(images) <= 10)`);
    this.addSql(`ALTER TABLE product ADD COLUMN category text CHECK (category ~ '^[a-z][a-z0-9-]{0,39}$')`);
    this.addSql(`CREATE INDEX product_category_idx ON product (category, id)`);
  }

  override down(): void {
    this.addSql('DROP INDEX product_category_idx');
    this.addSql('ALTER TABLE product DROP COLUMN category');
    this.addSql('ALTER TABLE product DROP COLUMN images');
  }
}
