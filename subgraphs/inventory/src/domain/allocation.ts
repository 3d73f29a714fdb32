/** Pure choice of warehouses for one order line; the caller takes the stock with conditional updates. */
export interface WarehouseAvailability {
  warehouseId: string;
  available: number;
}

export interface PlannedTake {
  warehouseId: string;
  qty: number;
}

/**
 * Prefers one warehouse that can serve the whole quantity (the one with the most available, so one
 * shipment and the least chance of losing a race); otherwise splits across warehouses by descending
 * available. Returns null when the warehouses together hold less than `qty`.
 * The takes come back ordered by warehouseId: every transaction locks stock rows in the same order.
 */
export function planLine(stock: readonly WarehouseAvailability[], qty: number): PlannedTake[] | null {
  const usable = stock.filter((s) => s.available > 0).sort((a, b) => b.available - a.available || a.warehouseId.localeCompare(b.warehouseId));
  const total = usable.reduce((sum, s) => sum + s.available, 0);
  if (total < qty) return null;
  const whole = usable.find((s) => s.available >= qty);
  if (whole) return [{ warehouseId: whole.warehouseId, qty }];
  const takes: PlannedTake[] = [];
  let remaining = qty;
  for (const s of usable) {
    if (remaining === 0) break;
    const take = Math.min(s.available, remaining);
    takes.push({ warehouseId: s.warehouseId, qty: take });
    remaining -= take;
  }
  return takes.sort((a, b) => (a.warehouseId < b.warehouseId ? -1 : a.warehouseId > b.warehouseId ? 1 : 0));
}
