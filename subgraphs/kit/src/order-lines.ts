/**
 * The one set of line limits, for carts and orders alike (a cart becomes an order): a line holds
 * 1..MAX_LINE_QTY of one SKU, and a cart or an order at most MAX_LINES different SKUs. The cart's
 * table checks the same quantity range (cart_line_qty_check).
 */
export const MAX_LINE_QTY = 99;
export const MAX_LINES = 50;
