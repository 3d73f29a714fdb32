import { Migration } from '@shop/kit';

export class Migration20261124000030_refunds extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE refund_request (
        id text PRIMARY KEY,
        order_id text NOT NULL REFERENCES orders (id),
        user_id text NOT NULL,
        amount integer NOT NULL CHECK (amount > 0),
        currency char(3) NOT NULL,
        reason text NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING_APPROVAL', 'REQUESTED', 'SUCCEEDED', 'FAILED', 'REJECTED')),
        restock boolean NOT NULL,
        decided_by text,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One live refund per order: a failed or rejected one may be asked for again.
    this.addSql(`CREATE UNIQUE INDEX refund_request_live_idx ON refund_request (order_id) WHERE status IN ('PENDING_APPROVAL', 'REQUESTED', 'SUCCEEDED')`);
  }
}
