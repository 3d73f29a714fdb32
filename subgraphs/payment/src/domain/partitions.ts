import { envInt, keyTableSyncSql, type KeyTable, type PartitionSet } from '@shop/kit';

/**
 * Payments are range-partitioned by payment id (UUIDv7, so by the time the payment was created;
 * Migration20261202150000_partitions), created ahead by the payment subgraph's partition job
 * (PAYMENT_PARTITION_DAYS, PAYMENT_PARTITIONS_AHEAD_DAYS, PAYMENT_PARTITION_CHECK_MS). The
 * uniqueness payOrder and the callbacks depend on (one active payment per order, one payment per
 * provider transaction) cannot be a unique index of the partitioned table (it would have to include
 * the payment id), so it lives in the unpartitioned key table payment_key, one narrow row per
 * payment kept in step by a trigger; lookups by order read the payment ids there and then one
 * partition per payment. Key rows are kept PAYMENT_KEY_RETENTION_DAYS (PAYMENT_KEYS).
 */
export const PAYMENT_PARTITIONS: PartitionSet = {
  name: 'payment',
  prefix: 'pay',
  schema: 'payment',
  tables: [['payment', 'id']],
  settings: () => ({
    periodDays: envInt('PAYMENT_PARTITION_DAYS', 7),
    aheadDays: envInt('PAYMENT_PARTITIONS_AHEAD_DAYS', 56),
    checkMs: envInt('PAYMENT_PARTITION_CHECK_MS', 3_600_000),
  }),
};

/**
 * The trigger that keeps payment_key in step with payment (its entity declares it; the migration
 * creates it): every insert, update and delete of a payment writes its key row in the same
 * transaction, so a duplicate key is refused by payment_key's unique indexes.
 */
export const PAYMENT_KEY_SYNC = keyTableSyncSql({
  schema: 'payment',
  table: 'payment',
  keyTable: 'payment_key',
  idColumn: 'payment_id',
  values: { order_id: 'NEW.order_id', active: "NEW.status IN ('PENDING', 'SUCCEEDED')", payment_txn_id: 'NEW.payment_txn_id' },
  watch: ['order_id', 'status', 'payment_txn_id'],
});

/**
 * payment_key keeps a payment's key row PAYMENT_KEY_RETENTION_DAYS (default 90, at least 14 and
 * twice the deduplication horizon) after the payment was created, then the payment subgraph's key
 * retention deletes it (kit persistence/key-retention.ts). Safe because the uniqueness it holds is
 * needed only early: payOrder creates a payment only before its order's payment deadline (minutes
 * after placement; the order subgraph refuses later), and a second payment of one provider
 * transaction is refused by payment_callback's unique (payment_txn_id, status), kept for good. The
 * payment itself stays, so a late callback (by payment id) finds it; its update writes the key row
 * again. An order's payments older than that are read from the partitions by order
 * (payment_order_idx, paymentIdsOfOrders).
 */
export const PAYMENT_KEYS: KeyTable = {
  schema: 'payment',
  table: 'payment_key',
  idColumn: 'payment_id',
  prefix: 'pay',
  retentionDays: () => envInt('PAYMENT_KEY_RETENTION_DAYS', 90),
};
