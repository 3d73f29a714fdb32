import { Migration, convertToPartitionedSql, partitionFunctionsSql } from '@shop/kit';
import { SHIPMENT_KEY_SYNC, SHIPMENT_PARTITIONS } from '../domain/partitions.js';

/**
 * Shipments and their items become range-partitioned by shipment id, i.e. by time
 * (domain/partitions.ts). The unique (order_id, warehouse_id) of shipments moves to the
 * unpartitioned key table shipment_key (one row per shipment: its order and warehouse), which the
 * trigger shipment_key_sync keeps in step with every insert, update and delete of a shipment in the
 * same transaction: a second shipment of one order from one warehouse is refused whatever
 * partitions the two would be in. Existing shipments and items are copied into the partitions and
 * their keys filled in.
 */
export class Migration20261202150000_partitions extends Migration {
  override up(): void {
    for (const statement of partitionFunctionsSql(SHIPMENT_PARTITIONS)) this.addSql(statement);
    this.addSql(`ALTER TABLE shipment_item DROP CONSTRAINT shipment_item_shipment_id_fkey`);
    for (const statement of convertToPartitionedSql(SHIPMENT_PARTITIONS)) this.addSql(statement);
    this.addSql(`ALTER TABLE shipment ADD CONSTRAINT shipment_pkey PRIMARY KEY (id)`);
    this.addSql(`ALTER TABLE shipment_item ADD CONSTRAINT shipment_item_pkey PRIMARY KEY (shipment_id, sku_id)`);
    this.addSql(`ALTER TABLE shipment_item ADD CONSTRAINT shipment_item_shipment_id_fkey FOREIGN KEY (shipment_id) REFERENCES shipment (id)`);

    this.addSql(`
      CREATE TABLE shipment_key (
        shipment_id text PRIMARY KEY,
        order_id text NOT NULL,
        warehouse_id text NOT NULL,
        -- One shipment per warehouse of an order: a redelivered stock-confirmed creates nothing new.
        CONSTRAINT shipment_one_per_warehouse UNIQUE (order_id, warehouse_id)
      )`);
    this.addSql(`INSERT INTO shipment_key (shipment_id, order_id, warehouse_id) SELECT id, order_id, warehouse_id FROM shipment`);
    this.addSql(SHIPMENT_KEY_SYNC);
  }
}
