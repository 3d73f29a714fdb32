import { badInput } from '@shop/kit';

/** Cart arithmetic in integer minor units. No floats; a cart holds one currency. */
export interface Amount {
  amount: number;
  currency: string;
}
export interface PricedLine {
  unitPrice: Amount;
  qty: number;
}

function assertInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${value}`);
}

export function lineTotal(line: PricedLine): Amount {
  assertInteger(line.unitPrice.amount, 'unit price');
  assertInteger(line.qty, 'quantity');
  const amount = line.unitPrice.amount * line.qty;
  assertInteger(amount, 'line total');
  return { amount, currency: line.unitPrice.currency };
}

/** A SKU priced in another currency than the cart's cannot join it (BAD_USER_INPUT). */
export function assertSameCurrency(cartCurrency: string | undefined, skuCurrency: string): void {
  if (cartCurrency !== undefined && cartCurrency !== skuCurrency) {
    throw badInput(`this cart holds prices in ${cartCurrency}; a SKU priced in ${skuCurrency} cannot be added to it`, { field: 'skuId' });
  }
}

/** Sum of unit price x quantity; an empty cart is 0 in `emptyCurrency`. Mixed currencies are refused. */
export function subtotal(lines: readonly PricedLine[], emptyCurrency: string): Amount {
  const currency = lines[0]?.unitPrice.currency ?? emptyCurrency;
  let amount = 0;
  for (const line of lines) {
    assertSameCurrency(currency, line.unitPrice.currency);
    amount += lineTotal(line).amount;
    assertInteger(amount, 'subtotal');
  }
  return { amount, currency };
}
