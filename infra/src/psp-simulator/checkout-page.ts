import type { Transaction } from './types.js';

/** Formats integer minor units for display: 37700 CNY -> "¥377.00" (no float arithmetic). */
export function formatMoney(amountMinor: number, currency: string): string {
  const format = new Intl.NumberFormat('en', { style: 'currency', currency, currencyDisplay: 'narrowSymbol' });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const sign = amountMinor < 0 ? '-' : '';
  const text = Math.abs(amountMinor)
    .toString()
    .padStart(digits + 1, '0');
  const decimal = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  return format.format(`${sign}${decimal}` as Intl.StringNumericLiteral);
}

const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const STYLE = `
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f4f5f7; color: #1f2328; margin: 0; }
  main { max-width: 420px; margin: 8vh auto; background: #fff; border-radius: 12px; padding: 32px; box-shadow: 0 4px 24px rgba(0,0,0,.08); }
  h1 { font-size: 1.1rem; margin: 0 0 4px; color: #57606a; font-weight: 500; }
  .amount { font-size: 2.4rem; font-weight: 700; margin: 8px 0 16px; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 12px; font-size: .85rem; color: #57606a; margin: 0 0 24px; }
  dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
  .actions { display: flex; gap: 12px; }
  form { flex: 1; margin: 0; }
  button { width: 100%; padding: 12px; font-size: 1rem; border: 0; border-radius: 8px; cursor: pointer; }
  .pay { background: #1f883d; color: #fff; }
  .fail { background: #eaeef2; color: #cf222e; }
  .status { font-size: 1.4rem; font-weight: 600; }
  .SUCCEEDED, .REFUNDED { color: #1f883d; } .FAILED { color: #cf222e; }
  a { color: #0969da; }
  footer { margin-top: 24px; font-size: .75rem; color: #8c959f; }`;

function page(title: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${content}
<footer>Payment provider simulator: no real money moves.</footer>
</main>
</body>
</html>`;
}

const details = (txn: Transaction): string => `<dl>
  <dt>Order</dt><dd>${escapeHtml(txn.orderId)}</dd>
  <dt>Payment</dt><dd>${escapeHtml(txn.paymentId)}</dd>
  <dt>Intent</dt><dd>${escapeHtml(txn.intentId)}</dd>
</dl>`;

/** The payer's page: the amount and two buttons, Pay and Fail. A decided intent shows its result instead. */
export function checkoutPage(txn: Transaction): string {
  if (txn.status !== 'PENDING') return resultPage(txn);
  const base = `/checkout/${encodeURIComponent(txn.intentId)}`;
  return page(
    `Pay ${formatMoney(txn.amount, txn.currency)}`,
    `<h1>Amount due</h1>
<div class="amount">${escapeHtml(formatMoney(txn.amount, txn.currency))}</div>
${details(txn)}
<div class="actions">
  <form method="post" action="${base}/pay"><button type="submit" class="pay">Pay</button></form>
  <form method="post" action="${base}/fail"><button type="submit" class="fail">Fail</button></form>
</div>`,
  );
}

const RESULT_TEXT: Record<Transaction['status'], string> = {
  PENDING: 'Waiting for payment',
  SUCCEEDED: 'Payment succeeded',
  FAILED: 'Payment failed',
  REFUNDED: 'Payment refunded',
};

export function resultPage(txn: Transaction): string {
  const back = txn.returnUrl ? `<p><a href="${escapeHtml(txn.returnUrl)}">Return to the shop</a></p>` : '';
  return page(
    RESULT_TEXT[txn.status],
    `<h1>${escapeHtml(formatMoney(txn.amount, txn.currency))}</h1>
<p class="status ${txn.status}">${RESULT_TEXT[txn.status]}</p>
${details(txn)}
${back}`,
  );
}

export function notFoundPage(intentId: string): string {
  return page('Unknown payment', `<p class="status FAILED">Unknown payment</p><p>No payment intent ${escapeHtml(intentId)}.</p>`);
}
