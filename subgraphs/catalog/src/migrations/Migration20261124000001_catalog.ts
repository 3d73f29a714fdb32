import { Migration } from '@shop/kit';

export class Migration20261124000001_catalog extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE product (
        id text PRIMARY KEY,
        title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
        description text NOT NULL CHECK (length(description) <= 5000),
        created_at timestamptz NOT NULL DEFAULT now(),
        search tsvector GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || description)) STORED
      )`);
    this.addSql(`CREATE INDEX product_search_idx ON product USING gin (search)`);
    this.addSql(`
      CREATE TABLE sku (
        id text PRIMARY KEY,
        product_id text NOT NULL REFERENCES product (id),
        title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
        price_amount integer NOT NULL CHECK (price_amount >= 0),
        currency char(3) NOT NULL,
        flash_sale boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    this.addSql(`CREATE INDEX sku_product_idx ON sku (product_id, id)`);
  }

  override down(): void {
    this.addSql('DROP TABLE sku');
    this.addSql('DROP TABLE product');
  }
}
