import { Migration } from '@shop/kit';

/** When the order of a still-PENDING payment was canceled: such a payment is an operator case (README "Operator cases"). */
export class Migration20261202000015_order_closed extends Migration {
  override up(): void {
    this.addSql(`ALTER TABLE payment ADD COLUMN order_closed_at timestamptz`);
    this.addSql(`CREATE INDEX payment_abandoned_idx ON payment (order_closed_at) WHERE status = 'PENDING' AND order_closed_at IS NOT NULL`);
  }
}
