/** Money is integer minor units plus an ISO-4217 currency; formatting never uses float arithmetic. */
export interface MoneyLike {
  amount: number;
  currency: string;
}

const formatters = new Map<string, Intl.NumberFormat>();

function formatterFor(currency: string, locale: string): Intl.NumberFormat {
  const key = `${locale}:${currency}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay: 'narrowSymbol' });
    formatters.set(key, format);
  }
  return format;
}

/** 37700 CNY -> "¥377.00"; -500 CNY -> "-¥5.00"; in the given locale's number format (default English). */
export function formatMoney(money: MoneyLike, locale = 'en'): string {
  const format = formatterFor(money.currency, locale);
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const sign = money.amount < 0 ? '-' : '';
  const text = Math.abs(Math.trunc(money.amount))
    .toString()
    .padStart(digits + 1, '0');
  const decimal = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  return format.format(`${sign}${decimal}` as Intl.StringNumericLiteral);
}
