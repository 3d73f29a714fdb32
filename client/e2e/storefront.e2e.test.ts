/**
 * The storefront end to end in a real browser (Debian's chromium through playwright-core, which
 * never downloads a browser): sign in, search, open a product, add to the cart, check out with a
 * new address and the WELCOME10 coupon, double-click "Place order" (exactly one order), pay on the
 * payment simulator's page in a new tab, and watch the order page turn PAID live, without a reload.
 *
 * Against a running stack when E2E_STOREFRONT_URL, E2E_GATEWAY_URL and E2E_PSP_URL are set (with the
 * demo data loaded: WELCOME10); otherwise it starts every process and the Vite dev server itself
 * (tests/support/storefront-stack.ts), as `npm test` does. CHROMIUM_PATH defaults to /usr/bin/chromium.
 * Leaves a screenshot of the paid order at artifacts/e2e/order-page.png.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { OrderDocument, OrdersDocument, createShopClient } from '../src/sdk/index';
import { storefrontStack } from '../../tests/support/storefront-stack.js';

let STOREFRONT = (process.env.E2E_STOREFRONT_URL ?? '').replace(/\/+$/, '');
let GATEWAY = process.env.E2E_GATEWAY_URL ?? '';
let PSP = (process.env.E2E_PSP_URL ?? '').replace(/\/+$/, '');
let stopStack: (() => Promise<void>) | undefined;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/e2e/', import.meta.url));

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const STEP_MS = 20_000;

/** A fresh shopper per run: WELCOME10 is once per user, and "exactly one order" needs an empty history. */
const shopper = `e2e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

/** Reads a "¥123.45" amount as minor units (integers only, no floats). */
const minorUnits = (text: string | null): number => {
  const digits = (text ?? '').replace(/[^0-9]/g, '');
  if (!digits) throw new Error(`not an amount: ${text}`);
  return Number(digits);
};

async function tokenFor(user: string): Promise<string> {
  const response = await fetch(`${STOREFRONT}/dev/token?user=${encodeURIComponent(user)}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

beforeAll(async () => {
  if (!STOREFRONT || !GATEWAY || !PSP) {
    const stack = await storefrontStack();
    ({ storefront: STOREFRONT, gateway: GATEWAY, psp: PSP } = stack);
    stopStack = stack.stop;
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
  context.setDefaultTimeout(STEP_MS);
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await stopStack?.();
});

describe('storefront', () => {
  it('signs in, shops, checks out once on a double click, pays, and sees PAID live', { timeout: 180_000 }, async () => {
    onTestFailed(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}failure.png`, fullPage: true }).catch(() => undefined);
      console.error(`storefront e2e failed at ${page.url()}; page errors: ${JSON.stringify(pageErrors)}; screenshot: ${ARTIFACTS}failure.png`);
    });
    // Sign in through the development sign-in page.
    await page.goto(`${STOREFRONT}/sign-in`);
    await page.getByLabel('Other user name').fill(shopper);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Products' }).waitFor();
    await expect.poll(() => page.getByLabel('Signed in as').textContent()).toBe(shopper);

    // Browse and search (the catalog may hold other products: find the demo ones by searching).
    await page.getByRole('searchbox', { name: 'Search products' }).fill('keyboard');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\?q=keyboard/);
    await page.getByRole('link', { name: 'Mechanical Keyboard 87' }).waitFor();
    await page.getByRole('searchbox', { name: 'Search products' }).fill('oolong');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\?q=oolong/);
    await page.getByRole('link', { name: 'Mechanical Keyboard 87' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Oolong Tea Gift Box' }).click();

    // Product detail: price, SKUs, live stock; add two boxes to the cart.
    await page.getByRole('heading', { name: 'Oolong Tea Gift Box' }).waitFor();
    const option = page.getByRole('listitem', { name: '250 g box' });
    await option.getByText(/in stock/).waitFor();
    expect(await option.textContent()).toContain('¥128.00');
    await option.getByLabel('Quantity').fill('2');
    await option.getByRole('button', { name: 'Add 250 g box to cart' }).click();
    await page.getByRole('status').filter({ hasText: 'Added to your cart' }).waitFor();

    // Cart: two boxes, subtotal 256.00.
    await page.getByRole('link', { name: 'Cart (2)' }).click();
    await page.getByRole('heading', { name: 'Your cart' }).waitFor();
    await page.getByText('Subtotal: ¥256.00').waitFor();
    await page.getByRole('link', { name: 'Checkout' }).click();

    // Checkout: a new address, then the coupon.
    await page.getByRole('heading', { name: 'Checkout' }).waitFor();
    const form = page.getByRole('form', { name: 'New address' });
    await form.getByLabel('Full name').fill('Erin Example');
    await form.getByLabel('Phone').fill('+86 138 0000 0000');
    await form.getByLabel('Street address').fill('1 Century Avenue');
    await form.getByLabel('City').fill('Shanghai');
    await form.getByLabel('Country').selectOption('CN');
    await form.getByRole('button', { name: 'Save address' }).click();
    await page.getByRole('radio', { name: /Erin Example, 1 Century Avenue/ }).waitFor();
    expect(await page.getByRole('radio', { name: /Erin Example/ }).isChecked()).toBe(true);

    await page.getByLabel('Coupon code').fill('WELCOME10');
    await page.getByRole('button', { name: 'Apply coupon' }).click();
    await page.getByText('Coupon WELCOME10 applied.').waitFor();
    const placeButton = page.getByRole('button', { name: 'Place order' });
    await expect.poll(() => placeButton.isEnabled(), { timeout: STEP_MS }).toBe(true);
    const total = minorUnits(await page.getByTestId('summary-total').textContent());
    const discount = minorUnits(await page.getByTestId('summary-discount').textContent());
    const shipping = minorUnits(await page.getByTestId('summary-shipping').textContent());
    const payable = minorUnits(await page.getByTestId('summary-payable').textContent());
    expect(total).toBe(25_600);
    expect(discount).toBe(2_560); // 10% off, under the 50.00 cap
    expect(payable).toBe(total - discount + shipping);

    // Double-click "Place order": one order, and the order page.
    await placeButton.dblclick();
    await page.waitForURL(/\/orders\/ord_[0-9a-f]+$/);
    const orderId = new URL(page.url()).pathname.split('/').pop()!;
    const status = page.getByRole('status', { name: 'Order status' });
    await page.locator('[aria-label="Order status"][data-status="PENDING_PAYMENT"]').waitFor();
    expect(minorUnits(await page.getByTestId('order-payable').textContent())).toBe(payable);
    await page.getByRole('link', { name: 'Cart', exact: true }).waitFor(); // the ordered lines left the cart

    const shop = createShopClient({ url: GATEWAY, token: await tokenFor(shopper) });
    const { orders } = await shop.request(OrdersDocument, { first: 10 });
    expect(orders.edges.map((e) => e.node.id)).toEqual([orderId]);

    // The order list shows exactly that one order too (client-side navigation, no reload).
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders' }).click();
    const list = page.getByRole('list', { name: 'Orders' });
    await list
      .getByRole('link', { name: /^Order / })
      .first()
      .waitFor();
    expect(await list.getByRole('link', { name: /^Order / }).count()).toBe(1);
    await list.getByRole('link', { name: /^Order / }).click();
    await page.locator('[aria-label="Order status"][data-status="PENDING_PAYMENT"]').waitFor();

    // Pay on the simulator's page, in the tab the Pay button opens; this page must not reload.
    await page.evaluate(() => {
      (window as unknown as { __noReload: boolean }).__noReload = true;
    });
    const [popup] = await Promise.all([context.waitForEvent('page'), page.getByRole('button', { name: 'Pay', exact: true }).click()]);
    await popup.waitForURL(`${PSP}/**`);
    await popup.getByRole('button', { name: 'Pay', exact: true }).click();
    await popup.getByText('Payment succeeded').waitFor();

    await page.locator('[aria-label="Order status"][data-status="PAID"]').waitFor({ timeout: 60_000 });
    expect(await status.textContent()).toBe('Paid');
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    expect(new URL(page.url()).pathname).toBe(`/orders/${orderId}`);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}order-page.png`, fullPage: true });

    const { order } = await shop.request(OrderDocument, { id: orderId });
    expect(order?.status).toBe('PAID');
    expect(pageErrors).toEqual([]);
  });
});
