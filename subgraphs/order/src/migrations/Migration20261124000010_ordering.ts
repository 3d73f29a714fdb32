import { Migration } from '@shop/kit';

export class Migration20261124000010_ordering extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE address (
        id text PRIMARY KEY,
        user_id text NOT NULL,
        name_enc text NOT NULL,
        phone_enc text NOT NULL,
        line1_enc text NOT NULL,
        city text NOT NULL,
        country char(2) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    this.addSql(`CREATE INDEX address_user_idx ON address (user_id, id)`);

    this.addSql(`
      CREATE TABLE coupon (
        code text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('FIXED', 'PERCENT', 'THRESHOLD')),
        amount_off integer NOT NULL DEFAULT 0 CHECK (amount_off >= 0),
        percent_off integer NOT NULL DEFAULT 0 CHECK (percent_off BETWEEN 0 AND 100),
        cap integer NOT NULL DEFAULT 0 CHECK (cap >= 0),
        min_spend integer NOT NULL DEFAULT 0 CHECK (min_spend >= 0),
        currency char(3) NOT NULL,
        valid_from timestamptz NOT NULL,
        valid_to timestamptz NOT NULL,
        per_user_limit integer NOT NULL DEFAULT 0 CHECK (per_user_limit >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    this.addSql(`
      CREATE TABLE shipping_rate (
        destination text PRIMARY KEY,
        base_fee integer NOT NULL CHECK (base_fee >= 0),
        per_item_fee integer NOT NULL CHECK (per_item_fee >= 0),
        free_over integer NOT NULL CHECK (free_over >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // '*' is the rate for destinations without a rate of their own (and previews without an address).
    this.addSql(`INSERT INTO shipping_rate (destination, base_fee, per_item_fee, free_over) VALUES ('*', 1500, 500, 0), ('CN', 800, 200, 9900)`);

    this.addSql(`
      CREATE TABLE preview (
        id text PRIMARY KEY,
        user_id text NOT NULL,
        lines jsonb NOT NULL,
        coupon_code text,
        address_id text,
        currency char(3) NOT NULL,
        total integer NOT NULL,
        discount integer NOT NULL,
        shipping_fee integer NOT NULL,
        payable integer NOT NULL,
        stock_check text NOT NULL,
        flash_sale boolean NOT NULL,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    this.addSql(`
      CREATE TABLE orders (
        id text PRIMARY KEY,
        user_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('CREATED','PENDING_PAYMENT','PAID','SHIPPED','COMPLETED','CANCELED','REFUNDED')),
        cancel_reason text CHECK (cancel_reason IN ('USER_CANCELED','PAYMENT_TIMEOUT','OUT_OF_STOCK','RISK_REJECTED')),
        currency char(3) NOT NULL,
        total integer NOT NULL CHECK (total >= 0),
        discount integer NOT NULL CHECK (discount >= 0),
        shipping_fee integer NOT NULL CHECK (shipping_fee >= 0),
        payable integer NOT NULL CHECK (payable >= 0),
        coupon_code text,
        address_id text,
        preview_id text NOT NULL,
        flash_sale boolean NOT NULL,
        expire_at timestamptz NOT NULL,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((status = 'CANCELED') = (cancel_reason IS NOT NULL))
      )`);
    this.addSql(`CREATE INDEX orders_user_idx ON orders (user_id, id DESC)`);
    this.addSql(`CREATE INDEX orders_expiry_idx ON orders (expire_at) WHERE status IN ('CREATED', 'PENDING_PAYMENT')`);

    this.addSql(`
      CREATE TABLE order_item (
        order_id text NOT NULL REFERENCES orders (id),
        sku_id text NOT NULL,
        qty integer NOT NULL CHECK (qty > 0),
        unit_price integer NOT NULL CHECK (unit_price >= 0),
        PRIMARY KEY (order_id, sku_id)
      )`);

    // Idempotency of placeOrder: the primary key, not a read, decides which request creates the order.
    this.addSql(`
      CREATE TABLE order_request (
        user_id text NOT NULL,
        client_req_id text NOT NULL,
        order_id text NOT NULL REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED,
        preview_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, client_req_id)
      )`);

    this.addSql(`
      CREATE TABLE coupon_use (
        code text NOT NULL REFERENCES coupon (code),
        user_id text NOT NULL,
        order_id text NOT NULL REFERENCES orders (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (code, order_id)
      )`);
    this.addSql(`CREATE INDEX coupon_use_user_idx ON coupon_use (code, user_id)`);

    // The audit trail of every order transition (seed §8.5).
    this.addSql(`
      CREATE TABLE order_event (
        id text PRIMARY KEY,
        order_id text NOT NULL REFERENCES orders (id),
        event_type text NOT NULL,
        from_status text,
        to_status text NOT NULL,
        version integer NOT NULL,
        payload jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    this.addSql(`CREATE INDEX order_event_order_idx ON order_event (order_id, created_at DESC)`);
  }
}
