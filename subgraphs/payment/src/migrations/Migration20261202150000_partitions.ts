import { Migration, convertToPartitionedSql, partitionFunctionsSql } from '@shop/kit';
import { PAYMENT_KEY_SYNC, PAYMENT_PARTITIONS } from '../domain/partitions.js';

/**
 * Payments become range-partitioned by payment id, i.e. by time (domain/partitions.ts). The
 * partial unique indexes payment_one_active_per_order and payment_txn_idx move, with their names,
 * to the unpartitioned key table payment_key (one row per payment: its order, whether it is active,
 * its provider transaction), which the trigger payment_key_sync keeps in step with every insert,
 * update and delete of a payment in the same transaction: a second active payment of an order, or a
 * second payment of one provider transaction, is refused whatever partitions the payments are in.
 * Existing payments are copied into the partitions and their keys filled in.
 */
export class Migration20261202150000_partitions extends Migration {
  override up(): void {
    for (const statement of partitionFunctionsSql(PAYMENT_PARTITIONS)) this.addSql(statement);
    this.addSql(`ALTER TABLE refund DROP CONSTRAINT refund_payment_id_fkey`);
    for (const statement of convertToPartitionedSql(PAYMENT_PARTITIONS)) this.addSql(statement);
    this.addSql(`ALTER TABLE payment ADD CONSTRAINT payment_pkey PRIMARY KEY (id)`);
    this.addSql(`CREATE INDEX payment_order_idx ON payment (order_id, created_at DESC)`);
    this.addSql(`CREATE INDEX payment_updated_idx ON payment (updated_at)`);
    this.addSql(`CREATE INDEX payment_abandoned_idx ON payment (order_closed_at) WHERE status = 'PENDING' AND order_closed_at IS NOT NULL`);
    this.addSql(`ALTER TABLE refund ADD CONSTRAINT refund_payment_id_fkey FOREIGN KEY (payment_id) REFERENCES payment (id)`);

    this.addSql(`
      CREATE TABLE payment_key (
        payment_id text PRIMARY KEY,
        order_id text NOT NULL,
        active boolean NOT NULL,
        payment_txn_id text
      )`);
    // One active payment per order: a second payOrder finds this one instead of charging twice.
    this.addSql(`CREATE UNIQUE INDEX payment_one_active_per_order ON payment_key (order_id) WHERE active`);
    this.addSql(`CREATE UNIQUE INDEX payment_txn_idx ON payment_key (payment_txn_id) WHERE payment_txn_id IS NOT NULL`);
    this.addSql(`CREATE INDEX payment_key_order_idx ON payment_key (order_id)`);
    this.addSql(
      `INSERT INTO payment_key (payment_id, order_id, active, payment_txn_id)
       SELECT id, order_id, status IN ('PENDING', 'SUCCEEDED'), payment_txn_id FROM payment`,
    );
    this.addSql(PAYMENT_KEY_SYNC);
  }
}
