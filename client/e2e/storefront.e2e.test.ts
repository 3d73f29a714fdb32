/**
 * The storefront end to end in a real browser (Debian's chromium through playwright-core, which
 * never downloads a browser): sign in, search, open a product, add to the cart, check out with a
 * new address and the WELCOME10 coupon, double-click "Place order" (exactly one order), pay on the
 * payment simulator's page in a new tab, and watch the order page turn PAID live, without a reload.
 *
 * Against a running stack when E2E_STOREFRONT_URL, E2E_GATEWAY_URL and E2E_PSP_URL are set (with the
 * demo data loaded: WELCOME10); otherwise it starts every process and the Vite dev server itself
 * (tests/support/storefront-stack.ts), as `npm test` does. CHROMIUM_PATH defaults to /usr/bin/chromium.
 * Then the paths where shops lose people, and the operations console (see the tests below). Every
 * page visited is checked with axe-core (no serious or critical violations), and screenshots of each
 * path, at desktop and phone sizes, are kept in artifacts/e2e/.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  ConsoleMetricsDocument,
  ConsoleOrdersDocument,
  ConsoleRefundsDocument,
  ConsoleShipmentsDocument,
  DeadLettersDocument,
  DiscardDeadLettersDocument,
  OrderDocument,
  OrdersDocument,
  PlaceOrderDocument,
  PreviewOrderDocument,
  ReconcilePaymentsDocument,
  SetStockDocument,
  ShopRequestError,
  createShopClient,
} from '../src/sdk/index';
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
const PHONE = { width: 390, height: 844 };
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Keeps a full-page screenshot in artifacts/e2e/<name>.png. */
async function shot(target: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await target.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** Runs axe-core in the page: no serious or critical violation is allowed. */
async function expectAccessible(target: Page, where: string): Promise<void> {
  await target.addScriptTag({ path: AXE });
  const violations = await target.evaluate(async () => {
    const result = await (
      window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }
    ).axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect.soft(JSON.stringify(serious), `axe on ${where}`).toBe('[]');
}

/** A fresh shopper per run: WELCOME10 is once per user, and "exactly one order" needs an empty history. */
const shopper = `e2e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

let browser: Browser;
/** The paid order of the first test, refunded from the console later. */
let firstOrderId = '';
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
    await page.getByRole('link', { name: 'Oolong Tea Gift Box' }).waitFor();
    expect(await page.title()).toBe('Products · Shop');
    // Curated products (with pictures) come first; the count says how many there are.
    await page.getByText(/^\d+ products$/).waitFor();
    await expectAccessible(page, 'catalog');
    await shot(page, 'catalog');

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
    // Focus moved to the new page's heading; the picture is there.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Oolong Tea Gift Box');
    await page.getByRole('img', { name: 'Picture of Oolong Tea Gift Box' }).waitFor();
    await expectAccessible(page, 'product page');
    await shot(page, 'product');
    await option.getByLabel('Quantity').fill('2');
    await option.getByRole('button', { name: 'Add to cart — 250 g box' }).click();
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
    await expectAccessible(page, 'checkout');
    await placeButton.dblclick();
    await page.waitForURL(/\/orders\/ord_[0-9a-f]+\?placed=1$/);
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

    // After payment the page says what was paid, not what is still to pay; where it ships.
    expect(await page.getByTestId('order-payable-label').textContent()).toBe('Paid');
    await page.getByTestId('ship-to').getByText('1 Century Avenue').waitFor();
    await expectAccessible(page, 'order page');
    await shot(page, 'order-page');
    firstOrderId = orderId;

    const { order } = await shop.request(OrderDocument, { id: orderId });
    expect(order?.status).toBe('PAID');
    expect(pageErrors).toEqual([]);
  });

  /** The shopper's product page option row. */
  const optionRow = (target: Page, title: string) => target.getByRole('listitem', { name: title });
  const openProduct = async (target: Page, search: string, title: string) => {
    await target.goto(`${STOREFRONT}/?q=${encodeURIComponent(search)}`);
    await target.getByRole('link', { name: title }).click();
    await target.getByRole('heading', { name: title }).waitFor();
  };
  const addToCart = async (target: Page, option: string, qty: number) => {
    const row = optionRow(target, option);
    await row.getByText(/in stock/).waitFor();
    await row.getByLabel('Quantity').fill(String(qty));
    await row.getByRole('button', { name: `Add to cart — ${option}` }).click();
  };
  const failureShot = (name: string) =>
    onTestFailed(async () => {
      await shot(page, `failure-${name}`).catch(() => undefined);
      console.error(`storefront e2e "${name}" failed at ${page.url()}; page errors: ${JSON.stringify(pageErrors)}`);
    });

  it('keeps the price breakdown when a coupon is refused, says why beside the coupon, and edits an address', { timeout: 120_000 }, async () => {
    failureShot('coupon');
    await openProduct(page, 'oolong', 'Oolong Tea Gift Box');
    await addToCart(page, '250 g box', 1);
    await page.getByRole('status').filter({ hasText: 'Added to your cart' }).waitFor();
    await page.goto(`${STOREFRONT}/checkout`);
    await page.getByRole('heading', { name: 'Checkout' }).waitFor();

    // WELCOME10 is once per customer, and this shopper used it in the first order.
    await page.getByLabel('Coupon code').fill('welcome10');
    await page.getByRole('button', { name: 'Apply coupon' }).click();
    const refusal = page.locator('#coupon-error');
    await refusal.waitFor();
    expect(await refusal.textContent()).toBe(
      'You have already used coupon WELCOME10: it can be used once per customer. Your total below is without the coupon.',
    );
    const placeButton = page.getByRole('button', { name: 'Place order' });
    await expect.poll(() => placeButton.isEnabled(), { timeout: STEP_MS }).toBe(true);
    expect(minorUnits(await page.getByTestId('summary-total').textContent())).toBe(12_800);
    expect(await page.getByTestId('summary-discount').textContent()).toBe('¥0.00');
    await expectAccessible(page, 'checkout with a refused coupon');
    await shot(page, 'coupon-refused');
    await page.getByRole('button', { name: 'Remove coupon' }).click();
    await refusal.waitFor({ state: 'detached' });

    // Edit the address: the edited copy is chosen; the old one is gone from the list.
    await page.getByRole('button', { name: 'Edit address of Erin Example' }).click();
    const edit = page.getByRole('form', { name: 'Edit address' });
    await edit.getByLabel('Street address').fill('88 Century Avenue');
    await edit.getByRole('button', { name: 'Save address' }).click();
    await page.getByRole('radio', { name: /Erin Example, 88 Century Avenue/ }).waitFor();
    expect(await page.getByRole('radio', { name: /1 Century Avenue/ }).count()).toBe(0);
    expect(await page.getByRole('radio', { name: /88 Century Avenue/ }).isChecked()).toBe(true);
  });

  it('refuses to add more than is in stock, and shows stock taken by another buyer live, in the product and the cart', { timeout: 120_000 }, async () => {
    failureShot('stock');
    await openProduct(page, 'oolong', 'Oolong Tea Gift Box');
    const cartLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Cart/ });
    const before = await cartLink.textContent();
    await addToCart(page, '500 g box', 16); // 15 in stock
    await page.getByRole('alert').filter({ hasText: 'Only 15 in stock, and 0 already in your cart: you can add at most 15.' }).waitFor();
    expect(await page.getByRole('status').filter({ hasText: 'Added to your cart' }).count()).toBe(0);
    expect(await cartLink.textContent()).toBe(before);
    await shot(page, 'over-stock');

    // The coffee set: one into the cart, then the warehouse's last ones go (another buyer, here setStock).
    await openProduct(page, 'pour-over', 'Ceramic Pour-over Coffee Set');
    await addToCart(page, 'Celadon', 1);
    await page.getByRole('status').filter({ hasText: 'Added to your cart' }).waitFor();
    const ops = createShopClient({ url: GATEWAY, token: await tokenFor('admin') });
    const celadon = 'sku_0193a000000070008000000000000401';
    await ops.request(SetStockDocument, { skuId: celadon, warehouseId: 'wh-shenzhen', onHand: 0 });
    try {
      // No reload, no focus change: the product page reads stock again by itself.
      await optionRow(page, 'Celadon').getByText('Sold out').waitFor({ timeout: STEP_MS });
      await page.getByRole('link', { name: 'View cart' }).click();
      await page.getByRole('heading', { name: 'Your cart' }).waitFor();
      await page.getByText('Sold out: someone bought the last one. Remove it to check out.').waitFor();
      await page.getByRole('alert').filter({ hasText: 'Some items are no longer available' }).waitFor();
      expect(await page.getByRole('link', { name: 'Checkout' }).count()).toBe(0);
      await expectAccessible(page, 'cart with a sold-out line');
      await shot(page, 'cart-sold-out');
      await page.getByRole('button', { name: /^Remove Ceramic Pour-over Coffee Set/ }).click();
      await page.getByRole('link', { name: 'Checkout' }).waitFor();
    } finally {
      await ops.request(SetStockDocument, { skuId: celadon, warehouseId: 'wh-shenzhen', onHand: 12 });
    }
  });

  let unpaidOrderId = '';

  it('shows a failed payment live on the order page, with a way to pay again', { timeout: 120_000 }, async () => {
    failureShot('payment-failed');
    await page.goto(`${STOREFRONT}/checkout`);
    const placeButton = page.getByRole('button', { name: 'Place order' });
    await expect.poll(() => placeButton.isEnabled(), { timeout: STEP_MS }).toBe(true);
    await placeButton.click();
    await page.waitForURL(/\/orders\/ord_[0-9a-f]+\?placed=1$/);
    unpaidOrderId = new URL(page.url()).pathname.split('/').pop()!;
    await page.locator('[aria-label="Order status"][data-status="PENDING_PAYMENT"]').waitFor();
    await page.getByText(/^Thank you! Your order [0-9A-F]{8} is placed\.$/).waitFor();
    expect(await page.getByTestId('order-payable-label').textContent()).toBe('To pay');
    expect(await page.title()).toMatch(/^Order [0-9A-F]{8} · Shop$/);

    await page.evaluate(() => {
      (window as unknown as { __noReload: boolean }).__noReload = true;
    });
    const [popup] = await Promise.all([context.waitForEvent('page'), page.getByRole('button', { name: 'Pay', exact: true }).click()]);
    await popup.waitForURL(`${PSP}/**`);
    await popup.getByRole('button', { name: 'Fail', exact: true }).click();
    await popup.getByText('Payment failed').waitFor();
    await popup.close();

    await page.getByTestId('payment-failed').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('payment-failed').textContent()).toMatch(
      /^Your payment did not go through\. Nothing was charged\. You can try again before /,
    );
    await page.getByRole('button', { name: 'Try paying again' }).waitFor();
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    await expectAccessible(page, 'order page after a failed payment');
    await shot(page, 'payment-failed');
  });

  it('offers "Try again" when the shop cannot be reached, and recovers', { timeout: 120_000 }, async () => {
    failureShot('network');
    await page.goto(`${STOREFRONT}/orders`);
    await page
      .getByRole('list', { name: 'Orders' })
      .getByRole('link', { name: /^Order / })
      .first()
      .waitFor();
    await page.route(`${GATEWAY}**`, (route) => route.abort('internetdisconnected'));
    await page.getByLabel('Filter by status').selectOption('CANCELED');
    const alert = page.getByRole('alert').filter({ hasText: 'We cannot reach the shop right now. Please check your connection and try again.' });
    await alert.waitFor();
    // The page keeps its frame: header, heading and filter stay; only the list says what failed.
    await page.getByRole('heading', { name: 'Your orders' }).waitFor();
    await shot(page, 'network-failure');
    await page.unroute(`${GATEWAY}**`);
    await alert.getByRole('button', { name: 'Try again' }).click();
    await page.getByText('No orders yet.').waitFor();
    await alert.waitFor({ state: 'detached' });
  });

  it('sends a shopper whose session is refused mid-way to sign in, and back to the same page', { timeout: 120_000 }, async () => {
    failureShot('session');
    await page.goto(`${STOREFRONT}/orders/${unpaidOrderId}`);
    await page.getByRole('button', { name: 'Try paying again' }).waitFor();
    // The gateway stops accepting the token (expired, revoked) just as the shopper acts: that request carries a refused one.
    await page.route(`${GATEWAY}**`, (route) =>
      (route.request().postData() ?? '').includes('mutation PayOrder')
        ? route.continue({ headers: { ...route.request().headers(), authorization: 'Bearer not-a-valid-token' } })
        : route.continue(),
    );
    await page.getByRole('button', { name: 'Try paying again' }).click();
    await page.waitForURL(/\/sign-in\?expired=1&next=/);
    expect(new URL(page.url()).searchParams.get('next')).toBe(`/orders/${unpaidOrderId}`);
    await page.getByRole('alert').filter({ hasText: 'Your session has ended. Please sign in again; you will go back to where you were.' }).waitFor();
    // The header agrees: nobody is signed in.
    expect(await page.getByLabel('Signed in as').count()).toBe(0);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders' }).waitFor({ state: 'detached' });
    await expectAccessible(page, 'sign-in after a refused session');
    await shot(page, 'session-refused');
    await page.unroute(`${GATEWAY}**`);

    await page.getByLabel('Other user name').fill(shopper);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${STOREFRONT}/orders/${unpaidOrderId}`);
    await page.locator('[aria-label="Order status"][data-status="PENDING_PAYMENT"]').waitFor();
  });

  it('speaks Chinese to a Chinese browser, formats by locale, and switches to English', { timeout: 120_000 }, async () => {
    failureShot('chinese');
    const zh = await browser.newContext({ locale: 'zh-CN', viewport: PHONE, isMobile: true, hasTouch: true });
    zh.setDefaultTimeout(STEP_MS);
    const phone = await zh.newPage();
    phone.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await phone.goto(`${STOREFRONT}/`);
      await phone.getByRole('heading', { name: '全部商品' }).waitFor();
      expect(await phone.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
      expect(await phone.title()).toBe('全部商品 · 商城');
      await phone.getByRole('link', { name: '茶叶' }).waitFor();
      await phone.getByText(/^共 \d+ 件商品$/).waitFor();
      await phone.getByText('¥128.00 起').waitFor();
      await expectAccessible(phone, 'catalog in Chinese');
      await shot(phone, 'catalog-zh-phone');

      await phone.getByRole('link', { name: 'Oolong Tea Gift Box' }).click();
      await phone
        .getByRole('listitem', { name: '250 g box' })
        .getByText(/^库存 \d+ 件$/)
        .waitFor();
      await phone.getByRole('link', { name: '登录后购买' }).first().waitFor();
      await expectAccessible(phone, 'product page in Chinese');
      await shot(phone, 'product-zh-phone');

      // Signed in, the order page in Chinese, on a phone.
      await phone.getByRole('link', { name: '登录', exact: true }).click();
      await phone.getByLabel('其他用户名').fill(shopper);
      await phone.getByRole('button', { name: '登录', exact: true }).click();
      await phone.getByRole('heading', { name: 'Oolong Tea Gift Box' }).waitFor();
      await phone.goto(`${STOREFRONT}/orders/${unpaidOrderId}`);
      await phone.getByText('待支付').first().waitFor();
      await phone
        .getByTestId('payment-failed')
        .getByText(/^支付未成功，未产生扣款。/)
        .waitFor();
      expect(await phone.getByTestId('order-payable-label').textContent()).toBe('应付');
      await expectAccessible(phone, 'order page in Chinese');
      await shot(phone, 'order-zh-phone');

      await phone.getByLabel('语言').selectOption('en');
      await phone.getByRole('button', { name: 'Try paying again' }).waitFor();
      expect(await phone.evaluate(() => document.documentElement.lang)).toBe('en');
    } finally {
      await zh.close();
    }
  });

  it('runs the shop from the console: ships an order and approves its refund; shoppers are refused by the gateway', { timeout: 240_000 }, async () => {
    failureShot('console');
    const short = firstOrderId.slice(-8).toUpperCase();
    const shop = createShopClient({ url: GATEWAY, token: await tokenFor(shopper) });

    // A shopper may open the console's address, but the gateway answers FORBIDDEN to every screen.
    await page.goto(`${STOREFRONT}/admin/refunds`);
    await page.getByRole('alert').filter({ hasText: 'Sorry, you are not allowed to do that.' }).waitFor();
    await shot(page, 'console-refused');
    // Every admin operation, asked through the gateway with a shopper's token: FORBIDDEN from the owning subgraph.
    const refusals = await Promise.all(
      [
        () => shop.request(ConsoleOrdersDocument, { first: 1 }),
        () => shop.request(ConsoleRefundsDocument, {}),
        () => shop.request(ConsoleShipmentsDocument, {}),
        () => shop.request(DeadLettersDocument, {}),
        () => shop.request(ConsoleMetricsDocument, {}),
        () => shop.request(ReconcilePaymentsDocument, { from: new Date(Date.now() - 60_000).toISOString(), to: new Date().toISOString() }),
        () => shop.request(DiscardDeadLettersDocument, { consumer: 'order.saga', eventIds: ['evt_x'] }),
      ].map((call) =>
        call().then(
          () => 'answered',
          (error: unknown) => (error instanceof ShopRequestError ? error.code : String(error)),
        ),
      ),
    );
    expect(refusals).toEqual(Array(7).fill('FORBIDDEN'));

    const adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    adminContext.setDefaultTimeout(STEP_MS);
    const ops = await adminContext.newPage();
    ops.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await ops.goto(`${STOREFRONT}/sign-in?next=/admin`);
      await ops.getByRole('button', { name: 'Sign in as admin' }).click();
      await ops.waitForURL(`${STOREFRONT}/admin`);
      const figures = ops.getByRole('group', { name: 'Key metrics' });
      await figures.getByText('Oversold stock rows').waitFor();
      await figures.getByText('Order placement p95').waitFor();
      await expectAccessible(ops, 'console overview');
      await shot(ops, 'console-overview');

      // The paid order's shipment: pack, then ship with a tracking number.
      await expect
        .poll(async () => (await shop.request(OrderDocument, { id: firstOrderId })).order?.shipments.length ?? 0, { timeout: 60_000 })
        .toBeGreaterThan(0);
      await ops.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Shipments' }).click();
      const pending = ops.locator('.queue-item').filter({ hasText: `Order ${short}` });
      await pending.first().waitFor();
      await expectAccessible(ops, 'console shipments');
      await shot(ops, 'console-shipments');
      await pending.first().getByRole('button', { name: 'Mark packed' }).click();
      await pending.first().waitFor({ state: 'detached' });
      await ops.getByLabel('Status').selectOption('PACKED');
      const packed = ops
        .locator('.queue-item')
        .filter({ hasText: `Order ${short}` })
        .first();
      await packed.getByLabel('Tracking number').fill('SF1234567890');
      await packed.getByRole('button', { name: 'Ship' }).click();
      await packed.waitFor({ state: 'detached' });
      await expect.poll(async () => (await shop.request(OrderDocument, { id: firstOrderId })).order?.status, { timeout: 60_000 }).toBe('SHIPPED');

      // The shopper asks for a refund; shipped, it waits for an operator.
      await page.goto(`${STOREFRONT}/orders/${firstOrderId}`);
      await page.locator('[aria-label="Order status"][data-status="SHIPPED"]').waitFor();
      await page.getByText('On its way · from our Shanghai warehouse · tracking number SF1234567890').waitFor();
      await page.getByLabel('Reason for the refund').fill('The box arrived crushed');
      await page.getByRole('button', { name: 'Request refund' }).click();
      // The form's confirmation, or already the order's refund state: the mutation refetches the
      // order, whose pending refund replaces the form (and its confirmation) as soon as it arrives.
      await page
        .getByRole('status')
        .filter({ hasText: /^(Refund of ¥\d+\.\d\d requested\.|Your refund of ¥\d+\.\d\d is waiting for approval\.)/ })
        .first()
        .waitFor();

      await ops.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Refunds' }).click();
      const refund = ops.getByRole('listitem', { name: `Refund of order ${short}` });
      await refund.getByText('The box arrived crushed').waitFor();
      await expectAccessible(ops, 'console refunds');
      await shot(ops, 'console-refunds');
      await refund.getByRole('button', { name: 'Approve refund' }).click();
      await refund.waitFor({ state: 'detached' });
      await expect.poll(async () => (await shop.request(OrderDocument, { id: firstOrderId })).order?.status, { timeout: 60_000 }).toBe('REFUNDED');

      // The shopper's page says so (live), and the amount line reads "Refunded".
      await page.locator('[aria-label="Order status"][data-status="REFUNDED"]').waitFor({ timeout: 60_000 });
      await expect.poll(() => page.getByTestId('order-payable-label').textContent()).toBe('Refunded');

      // The order in the console: found by its short number, with the whole audit trail.
      await ops.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Orders' }).click();
      await ops.getByLabel('Order number, order id or user id').fill(short);
      await ops.getByRole('button', { name: 'Search' }).click();
      await ops.getByRole('link', { name: short }).click();
      const trail = ops.getByRole('table', { name: 'Audit trail' });
      await trail.getByText('ORDER_REFUNDED').waitFor();
      await trail.getByText('ORDER_SHIPPED').waitFor();
      await expectAccessible(ops, 'console order');
      await shot(ops, 'console-order');

      await ops.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Stock' }).click();
      await ops
        .getByText(/^\d+ free · \d+ held · \d+ sold$/)
        .first()
        .waitFor();
      await expectAccessible(ops, 'console stock');
      await shot(ops, 'console-stock');

      await ops.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Dead letters' }).click();
      await ops.getByRole('heading', { name: /^order\.saga/ }).waitFor();
      await expectAccessible(ops, 'console dead letters');
      await shot(ops, 'console-dead-letters');

      await ops.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Reconciliation' }).click();
      await ops.getByRole('button', { name: 'Reconcile' }).click();
      await ops.getByText(/^\d+ provider transactions · \d+ repaired · \d+ differences left$/).waitFor({ timeout: 60_000 });
      await expectAccessible(ops, 'console reconciliation');
      await shot(ops, 'console-reconciliation');

      await ops.setViewportSize(PHONE);
      await ops.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Overview' }).click();
      await ops.getByRole('group', { name: 'Key metrics' }).getByText('Oversold stock rows').waitFor();
      await shot(ops, 'console-overview-phone');
    } finally {
      await adminContext.close();
    }
    expect(pageErrors).toEqual([]);
  });

  /** The risk rules' admin mutation; the storefront itself never changes rules, so it has no generated document. */
  const SetRiskRule = parse(
    'mutation SetRiskRule($id: ID!, $enabled: Boolean!, $action: String, $params: String) { setRiskRule(id: $id, enabled: $enabled, action: $action, params: $params) { action enabled params } }',
  ) as TypedDocumentNode<
    { setRiskRule: { action: string; enabled: boolean; params: string } },
    { id: string; enabled: boolean; action?: string | null; params?: string | null }
  >;

  it('holds large orders for risk review; the console approves one (on to payment, live) and rejects another', { timeout: 180_000 }, async () => {
    failureShot('risk-review');
    const admin = createShopClient({ url: GATEWAY, token: await tokenFor('admin') });
    const shop = createShopClient({ url: GATEWAY, token: await tokenFor(shopper) });
    // The large-payable rule (PAYABLE_ABOVE, REVIEW) lowered to ¥300 for this test, so a ¥399 keyboard is held;
    // the stack has one order process, which forgets its cached rules on the change. Put back afterwards.
    // (Setting only `enabled` changes nothing else and answers the rule's action and params, to restore.)
    const { setRiskRule: rule } = await admin.request(SetRiskRule, { id: 'large-payable', enabled: true });
    await admin.request(SetRiskRule, { id: 'large-payable', enabled: true, action: 'REVIEW', params: '{"amount": 30000, "currency": "CNY"}' });
    const adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    adminContext.setDefaultTimeout(STEP_MS);
    try {
      // The shopper checks out in the browser: the order is held, the page says why it cannot be paid yet.
      await openProduct(page, 'keyboard', 'Mechanical Keyboard 87');
      await addToCart(page, 'Brown switches', 1);
      await page.getByRole('status').filter({ hasText: 'Added to your cart' }).waitFor();
      await page.goto(`${STOREFRONT}/checkout`);
      const placeButton = page.getByRole('button', { name: 'Place order' });
      await expect.poll(() => placeButton.isEnabled(), { timeout: STEP_MS }).toBe(true);
      await placeButton.click();
      await page.waitForURL(/\/orders\/ord_[0-9a-f]+\?placed=1$/);
      const heldId = new URL(page.url()).pathname.split('/').pop()!;
      await page.locator('[aria-label="Order status"][data-status="REVIEW"]').waitFor();
      await page
        .getByTestId('order-in-review')
        .getByText(/^We are checking this order/)
        .waitFor();
      await page.getByText(/^Thank you! Your order [0-9A-F]{8} is placed\.$/).waitFor();
      expect(await page.getByRole('button', { name: 'Pay', exact: true }).count()).toBe(0);
      await page.getByRole('button', { name: 'Cancel order' }).waitFor();
      expect(await page.getByTestId('order-payable-label').textContent()).toBe('To pay');
      await expectAccessible(page, 'order in review');
      await shot(page, 'order-in-review');

      // A second held order, placed through the API; the operator rejects it.
      const red = 'sku_0193a000000070008000000000000202';
      const { previewOrder } = await shop.request(PreviewOrderDocument, { input: { items: [{ skuId: red, qty: 1 }] } });
      const { placeOrder } = await shop.request(PlaceOrderDocument, {
        input: { previewId: previewOrder.previewId, clientReqId: `e2e-risk-${Date.now().toString(36)}` },
      });
      expect(placeOrder.order.status).toBe('REVIEW');
      const rejectedId = placeOrder.order.id;

      const ops = await adminContext.newPage();
      ops.on('pageerror', (error) => pageErrors.push(error.message));
      await ops.goto(`${STOREFRONT}/sign-in?next=/admin/risk`);
      await ops.getByRole('button', { name: 'Sign in as admin' }).click();
      await ops.waitForURL(`${STOREFRONT}/admin/risk`);
      const held = ops.getByRole('listitem', { name: `Order ${heldId.slice(-8).toUpperCase()} in review` });
      const doubtful = ops.getByRole('listitem', { name: `Order ${rejectedId.slice(-8).toUpperCase()} in review` });
      await held.getByText(/Mechanical Keyboard 87 — Brown switches/).waitFor();
      await doubtful.getByText(/Mechanical Keyboard 87 — Red switches/).waitFor();
      await expectAccessible(ops, 'console risk review');
      await shot(ops, 'console-risk-review');

      await doubtful.getByLabel('Note (kept in the audit trail)').fill('Address does not match the account');
      await doubtful.getByRole('button', { name: 'Reject' }).click();
      await doubtful.waitFor({ state: 'detached' });
      await held.getByLabel('Note (kept in the audit trail)').fill('Called the buyer: genuine');
      await held.getByRole('button', { name: 'Approve' }).click();
      await held.waitFor({ state: 'detached' });
      await ops.getByText('No order is waiting for review.').waitFor();

      // The shopper's page turns to payment by itself: a fresh payment window, Pay offered, the notice gone.
      await page.locator('[aria-label="Order status"][data-status="PENDING_PAYMENT"]').waitFor({ timeout: 60_000 });
      await page.getByRole('button', { name: 'Pay', exact: true }).waitFor();
      expect(await page.getByTestId('order-in-review').count()).toBe(0);
      await shot(page, 'order-review-approved');
      const rejected = (await shop.request(OrderDocument, { id: rejectedId })).order;
      expect({ status: rejected?.status, reason: rejected?.cancelReason }).toEqual({ status: 'CANCELED', reason: 'RISK_REJECTED' });
      await page.goto(`${STOREFRONT}/orders/${rejectedId}`);
      await page.locator('[aria-label="Order status"][data-status="CANCELED"]').waitFor();
      await page.getByText('(not accepted)').waitFor();
    } finally {
      await adminContext.close();
      await admin.request(SetRiskRule, { id: 'large-payable', enabled: true, action: rule.action, params: rule.params });
    }
    expect(pageErrors).toEqual([]);
  });

  /** Creating a product is the console's job through the API; the storefront has no generated document for it. */
  const CreateProduct = parse('mutation CreateProduct($input: CreateProductInput!) { createProduct(input: $input) { id skus { id } } }') as TypedDocumentNode<
    { createProduct: { id: string; skus: { id: string }[] } },
    {
      input: {
        title: string;
        description: string;
        category?: string;
        skus: { title: string; price: number; currency: string; flashSale: boolean; flashSaleStartsAt?: string }[];
      };
    }
  >;

  it(
    'sells a flash-sale item: the buyer queues, the outcome arrives live, one per buyer, and the next buyer sees it sold out',
    { timeout: 180_000 },
    async () => {
      failureShot('flash-sale');
      const admin = createShopClient({ url: GATEWAY, token: await tokenFor('admin') });
      const title = `Midnight Lantern ${Date.now().toString(36)}`;
      const { createProduct } = await admin.request(CreateProduct, {
        input: {
          title,
          description: 'One lantern, one midnight: a flash sale.',
          skus: [
            { title: 'Lantern, flash sale', price: 9900, currency: 'CNY', flashSale: true, flashSaleStartsAt: new Date(Date.now() + 15_000).toISOString() },
          ],
        },
      });
      const skuId = createProduct.skus[0]!.id;
      await admin.request(SetStockDocument, { skuId, warehouseId: 'wh-shanghai', onHand: 2 });

      const shoppers: BrowserContext[] = [];
      const signedIn = async (user: string) => {
        const shopperContext = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
        shopperContext.setDefaultTimeout(STEP_MS);
        shoppers.push(shopperContext);
        const target = await shopperContext.newPage();
        target.on('pageerror', (error) => pageErrors.push(error.message));
        await target.goto(`${STOREFRONT}/sign-in?next=/products/${createProduct.id}`);
        await target.getByLabel('Other user name').fill(user);
        await target.getByRole('button', { name: 'Sign in', exact: true }).click();
        await target.getByRole('heading', { name: title }).waitFor();
        return target;
      };
      try {
        const first = await signedIn(`${shopper}-flash-1`);
        const row = optionRow(first, 'Lantern, flash sale');
        await row.getByText('2 in stock').waitFor();
        await row.getByText('One per customer.', { exact: false }).waitFor();
        // Before the sale starts: a countdown, and the button waits.
        await row
          .getByTestId('flash-countdown')
          .getByText(/The sale starts .*: in 0:\d\d\./)
          .waitFor();
        expect(await row.getByRole('button', { name: /^Buy now/ }).isDisabled()).toBe(true);
        await shot(first, 'flash-sale-countdown');
        // The first press after the sale opens may be asked to wait while the shop publishes the stock; the button says when.
        const buy = row.getByRole('button', { name: /^Buy now/ });
        await expect
          .poll(
            async () => {
              if (await buy.isEnabled()) await buy.click();
              return (await row.getByTestId('flash-state').textContent()) ?? '';
            },
            { timeout: 30_000, interval: 1500 },
          )
          .toMatch(/You got one!|You are in!|getting your item/);
        // The outcome is pushed: no reload.
        await row.getByText('You got one! Pay before', { exact: false }).waitFor({ timeout: 30_000 });
        await expectAccessible(first, 'flash sale won');
        await shot(first, 'flash-sale-won');
        // One per buyer: a second press answers with the order this buyer has.
        await buy.click();
        await row.getByText('You already have an order in this sale (one per customer).').waitFor();
        await row.getByRole('link', { name: 'See your order' }).waitFor();
        await shot(first, 'flash-sale-one-per-buyer');

        // The warehouse had only the one the first buyer holds (setStock keeps held units): the next buyer sees it sold out.
        await admin.request(SetStockDocument, { skuId, warehouseId: 'wh-shanghai', onHand: 1 });
        const second = await signedIn(`${shopper}-flash-2`);
        const secondRow = optionRow(second, 'Lantern, flash sale');
        await secondRow.getByText('Sold out').waitFor();
        expect(await secondRow.getByRole('button', { name: /^Buy now/ }).isDisabled()).toBe(true);
        await expectAccessible(second, 'flash sale sold out');
        await shot(second, 'flash-sale-sold-out');
        await second.setViewportSize(PHONE);
        await shot(second, 'flash-sale-sold-out-phone');
      } finally {
        for (const c of shoppers) await c.close();
      }
      expect(pageErrors).toEqual([]);
    },
  );
});
