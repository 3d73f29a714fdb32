import { Migration } from '@shop/kit';

/**
 * Risk review (seed §13: a second verification of high-risk orders, not a silent refusal): orders
 * can wait in REVIEW for an admin, and many orders from one IP address (a NAT, a mobile carrier,
 * our own server-side renderer) are a review signal by default, not a refusal. An operator's own
 * choice for the rule (updated_by set) is kept.
 */
export class Migration20261202000050_risk_review extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE orders DROP CONSTRAINT orders_status_check`);
    this.addSql(
      `ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('CREATED','REVIEW','PENDING_PAYMENT','PAID','SHIPPED','COMPLETED','CANCELED','REFUNDED'))`,
    );
    this.addSql(`CREATE INDEX orders_in_review_idx ON orders (id) WHERE status = 'REVIEW'`);
    this.addSql(`UPDATE risk_rule SET action = 'REVIEW', updated_at = now() WHERE id = 'ip-velocity' AND action = 'REJECT' AND updated_by IS NULL`);
  }
}
