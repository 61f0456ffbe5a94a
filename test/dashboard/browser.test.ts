/**
 * The dashboard in a real browser (the headless Chromium that the `@sparticuz/chromium` devDependency
 * ships inside the package, or the browser at CHROMIUM_PATH, driven by playwright-core): the page loads, the
 * graph shows, the script refreshes the depths, Redrive empties a DLQ, a peek and a lookup render in
 * place. Leaves screenshots in the system temp directory (dashboard.png, dashboard-last-error-open.png).
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sparticuz from '@sparticuz/chromium';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { CARRIER_TIMEOUT, type DashboardHarness, MISSING_EMAIL, startDashboardHarness } from './harness.ts';

const TRACKING = 'MailService/SendTracking';
const RECEIPT = 'MailService/SendReceipt';
const CHARGE = 'BillingService/ChargeCard';
/** A last error far longer than two lines of its column. */
const LONG_ERROR = `card issuer refused the charge: ${'the issuer gave a long explanation of why it refused '.repeat(8)}end`;

/** The page's `getComputedStyle` (this project's TypeScript has no DOM types). */
type StyleOf = { getComputedStyle(node: unknown): { lineHeight: string } };

describe('dashboard in a browser', () => {
  let h: DashboardHarness;
  let browser: Browser;
  let page: Page;

  before(async () => {
    h = await startDashboardHarness();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  it('shows the graph, redrives a DLQ and sees its depth drop', async () => {
    // Given two dead letters for SendTracking, one for SendReceipt and some deliveries
    for (const id of ['ship-1', 'ship-2']) await h.deadLetter(TRACKING, 'order.shipped', id, CARRIER_TIMEOUT);
    await h.deadLetter(RECEIPT, 'order.placed', 'ord-3', MISSING_EMAIL);
    await h.enqueue(CHARGE, 'order.placed', 'ord-4');
    await h.putDelivery({
      eventId: 'ord-3',
      rpc: CHARGE,
      status: 'COMPLETED',
      updatedAt: Date.now() - 5_000,
      attempts: 1,
    });
    await h.putDelivery({
      eventId: 'ord-3',
      rpc: RECEIPT,
      status: 'DEAD',
      updatedAt: Date.now() - 4_000,
      attempts: 1,
      lastError: { name: 'ValidationError', message: 'payload.email is missing', retryable: false },
    });
    await h.putDelivery({
      eventId: 'ord-5',
      rpc: CHARGE,
      status: 'DEAD',
      updatedAt: Date.now() - 3_500,
      attempts: 5,
      lastError: { name: 'PaymentDeclined', message: LONG_ERROR, retryable: false },
    });
    await h.putDelivery({
      eventId: 'ship-1',
      rpc: TRACKING,
      status: 'FAILED',
      eventName: 'order.shipped',
      updatedAt: Date.now() - 3_000,
      attempts: 5,
    });

    // When the page loads
    await page.goto(h.url);
    // Then the graph is there, and the script has refreshed the page from the JSON API
    await page.getByRole('heading', { name: 'order.placed' }).waitFor();
    assert.equal(
      await page.getByRole('list', { name: 'Subscribers of order.placed' }).getByRole('listitem').count(),
      2,
    );
    await page.locator('body[data-refreshed]').waitFor({ state: 'attached' });
    assert.match((await page.locator('#refresh-status').textContent()) ?? '', /^Live · updated/);
    const dlqCell = page.locator(`td[data-depth="${TRACKING}"][data-field="dlq.visible"]`);
    const queueCell = page.locator(`td[data-depth="${TRACKING}"][data-field="queue.visible"]`);
    assert.equal(await dlqCell.textContent(), '2');
    assert.equal(await queueCell.textContent(), '0');

    // And the long last error (rendered again by the script) is clamped to about two lines until opened
    const longError = page.locator('#deliveries-body details.last-error');
    assert.equal(await longError.count(), 1);
    assert.equal(await longError.getAttribute('title'), `PaymentDeclined: ${LONG_ERROR}`);
    const lineHeight = await longError
      .locator('.clamp')
      // runs in the page: only what the function holds itself
      .evaluate((node) =>
        Number.parseFloat((globalThis as unknown as StyleOf).getComputedStyle(node).lineHeight),
      );
    const closed = await heightOf(longError);
    assert.ok(
      closed > 0 && closed <= lineHeight * 2.5,
      `closed height ${closed} for line height ${lineHeight}`,
    );
    await longError.locator('summary').click();
    const open = await heightOf(longError);
    assert.ok(open > lineHeight * 3, `open height ${open} shows the whole text`);
    // and stays open when the script refreshes the table
    const refreshed = await page.locator('body').getAttribute('data-refreshed');
    await page.locator(`body:not([data-refreshed="${refreshed}"])`).waitFor({ state: 'attached' });
    assert.notEqual(await longError.getAttribute('open'), null);
    await page.screenshot({ path: join(tmpdir(), 'dashboard-last-error-open.png'), fullPage: true });
    await longError.locator('summary').click();

    // When Redrive is clicked for SendTracking
    await page.locator(`button[data-redrive="${TRACKING}"]`).click();
    // Then the DLQ depth drops to 0 and the messages are back in the queue
    await dlqCell.filter({ hasText: /^0$/ }).waitFor();
    await queueCell.filter({ hasText: /^2$/ }).waitFor();
    assert.match(
      (await page.locator('#action-status').textContent()) ?? '',
      /Redrive of the DLQ of MailService\/SendTracking started/,
    );
    assert.equal(await page.locator(`button[data-redrive="${TRACKING}"]`).isDisabled(), true);
    assert.deepEqual(await h.depth(TRACKING, 'dlq'), { visible: 0, inFlight: 0 });
  });

  it('peeks at a DLQ and looks an event up in place', async () => {
    // When Peek DLQ is clicked for SendReceipt
    await page.locator(`a[data-peek="${RECEIPT}"]`).click();
    // Then the dead letter shows with its reason
    const peek = page.locator('#peek-result');
    await peek.getByText('payload.email is missing').waitFor();
    assert.match((await peek.textContent()) ?? '', /ValidationError/);

    // When its eventId is clicked, the lookup shows each subscriber's state
    await peek.getByRole('link', { name: 'ord-3' }).click();
    const result = page.locator('#lookup-result');
    await result.getByText('DEAD').waitFor();
    assert.match((await result.textContent()) ?? '', /BillingService\/ChargeCard\s*COMPLETED/);
    assert.equal(await page.locator('#lookup-event-id').inputValue(), 'ord-3');

    // And a lookup typed in the form for an event nobody handled yet shows PENDING
    await page.locator('#lookup-event-id').fill('ship-77');
    await page.locator('#lookup-event').selectOption('order.shipped');
    await page.getByRole('button', { name: 'Look up' }).click();
    await result.getByText('PENDING').waitFor();
    assert.match((await result.textContent()) ?? '', /MailService\/SendTracking\s*PENDING/);

    // Back to a lookup with history, for the screenshot
    await page.locator('#lookup-event-id').fill('ord-3');
    await page.locator('#lookup-event').selectOption('');
    await page.getByRole('button', { name: 'Look up' }).click();
    await result.getByText('COMPLETED').waitFor();
    await page.screenshot({ path: join(tmpdir(), 'dashboard.png'), fullPage: true });
  });

  it('shows failure groups, redrives one at a rate with progress, and edits a dead letter', async () => {
    // Given three dead letters of one failure and one of another on SendTracking
    for (const id of ['ship-21', 'ship-22', 'ship-23'])
      await h.deadLetter(TRACKING, 'order.shipped', id, {
        type: 'Timeout',
        message: `carrier ${id} did not answer`,
      });
    await h.deadLetter(TRACKING, 'order.shipped', 'ship-24', MISSING_EMAIL);
    // When the Failures view is opened from the navigation
    await page.goto(h.url);
    await page.locator('#nav-failures').click();
    const failures = page.locator('#failures-result');
    await failures.locator('table.failures').waitFor();
    const timeoutRow = failures.locator('tr', { hasText: 'carrier <id> did not answer' });
    // Then the groups show with their counts and a sample
    assert.equal(await timeoutRow.locator('td[data-field="count"]').textContent(), '3');
    assert.match((await timeoutRow.textContent()) ?? '', /carrier <id> did not answer/);
    await page.screenshot({ path: join(tmpdir(), 'dashboard-failures.png'), fullPage: true });
    // When the group is redriven at 2 messages/s
    await timeoutRow.locator('input[name="rate"]').fill('2');
    await timeoutRow.getByRole('button', { name: /Redrive the 3 message/ }).click();
    // Then the page follows its progress to the end
    await page.locator('#job progress').waitFor();
    await page.locator('#job-result').waitFor({ timeout: 20_000 });
    assert.match((await page.locator('#job-result').textContent()) ?? '', /Done: 3 of 3 moved/);
    assert.deepEqual(await h.depth(TRACKING, 'dlq'), { visible: 1, inFlight: 0 });

    // When the remaining dead letter is edited from the peek
    await page.goto(`${h.url}/?peek=${encodeURIComponent(TRACKING)}#dlq-peek`);
    await page.locator('#peek-result a[data-edit]').first().click();
    const textarea = page.locator('#edit-payload');
    await textarea.waitFor();
    // with a payload that is not JSON
    await textarea.fill('{"carrier": ');
    await page.getByRole('button', { name: 'Send edited copy' }).click();
    // Then the form says why, and nothing was sent
    await page.locator('#edit-violations').waitFor();
    assert.match((await page.locator('#edit-violations').textContent()) ?? '', /is not JSON/);
    assert.deepEqual(await h.depth(TRACKING, 'dlq'), { visible: 1, inFlight: 0 });
    // When a valid payload is sent
    await page.locator('#edit-payload').fill('{"carrier": "DHL"}');
    await page.getByRole('button', { name: 'Send edited copy' }).click();
    // Then the page says so and the copy is in the queue
    await page.getByText(/Sent the edited copy of/).waitFor();
    assert.deepEqual(await h.depth(TRACKING, 'dlq'), { visible: 0, inFlight: 0 });
    assert.match((await page.locator('#audit-body').textContent()) ?? '', /edit/);
  });

  it('redrives with JavaScript off: the form posts and the page comes back with a notice', async () => {
    // Given a dead letter and a page without its script
    await h.deadLetter(TRACKING, 'order.shipped', 'ship-5', CARRIER_TIMEOUT);
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const plain = await context.newPage();
      await plain.goto(h.url);
      const cell = plain.locator(`td[data-depth="${TRACKING}"][data-field="dlq.visible"]`);
      assert.equal(await cell.textContent(), '1');
      // When Redrive is pressed
      await Promise.all([
        plain.waitForURL(/redriven=/),
        plain.getByRole('button', { name: `Redrive the DLQ of ${TRACKING}` }).click(),
      ]);
      // Then the page says so, and the DLQ empties
      assert.match(
        (await plain.getByRole('status').first().textContent()) ?? '',
        /Redrive of the DLQ of MailService\/SendTracking started/,
      );
      for (let i = 0; i < 200 && (await h.depth(TRACKING, 'dlq')).visible > 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(await h.depth(TRACKING, 'dlq'), { visible: 0, inFlight: 0 });
    } finally {
      await context.close();
    }
  });
});

/**
 * The browser `npm install` brings (`@sparticuz/chromium`, unpacked on first launch), or a system one
 * named by CHROMIUM_PATH (e.g. `CHROMIUM_PATH=/usr/bin/chromium`).
 */
async function launchBrowser(): Promise<Browser> {
  const systemBrowser = process.env.CHROMIUM_PATH;
  if (systemBrowser) {
    return chromium.launch({
      executablePath: systemBrowser,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
  }
  // Its defaults are made for one page per Lambda invocation: `--single-process` ends the whole browser
  // when a second context closes, and this test opens one with JavaScript off.
  const args = sparticuz.args.filter((arg) => arg !== '--single-process');
  return chromium.launch({ executablePath: await sparticuz.executablePath(), args });
}

/**
 * The rendered height of the element, measured once it is on the page: the script re-renders the
 * table every few seconds, and a measurement taken while a row is being replaced finds no box.
 */
async function heightOf(locator: Locator): Promise<number> {
  for (let i = 0; i < 50; i++) {
    await locator.waitFor({ state: 'visible' });
    const box = await locator.boundingBox();
    if (box) return box.height;
  }
  return 0;
}
