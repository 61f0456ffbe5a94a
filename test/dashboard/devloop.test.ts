/**
 * The dashboard of a running `event-router dev --watch` in a real browser (Chromium from
 * `@sparticuz/chromium`, or CHROMIUM_PATH), 390 px wide as on a phone: the send-event form publishes
 * through the local publish API and shows its per-field errors, the delivery view shows the payload,
 * the stored state, the result and the worker's log lines, and after a router file change adds an RPC
 * the dashboard (graph, queue table, DLQ peek) and the status endpoint show it without a restart.
 * Leaves screenshots in the system temp directory (dashboard-send.png, dashboard-delivery.png).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sparticuz from '@sparticuz/chromium';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type DevSession, routerYaml, startDevSession } from '../support/dev-session.ts';

/** The page's document width, to check nothing overflows the phone's viewport. */
type Doc = { document: { documentElement: { scrollWidth: number } } };

async function launchBrowser(): Promise<Browser> {
  const systemBrowser = process.env.CHROMIUM_PATH;
  if (systemBrowser) {
    return chromium.launch({
      executablePath: systemBrowser,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  }
  const args = sparticuz.args.filter((arg) => arg !== '--single-process');
  return chromium.launch({ executablePath: await sparticuz.executablePath(), args });
}

async function pageWidth(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as Doc).document.documentElement.scrollWidth);
}

describe('dashboard of dev --watch, in a browser at 390 px', { timeout: 900_000 }, () => {
  let s: DevSession;
  let browser: Browser;
  let page: Page;

  before(async () => {
    s = await startDevSession(['--no-typecheck']);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  it('sends an event from the form and shows its delivery: payload, state, result, log lines', async () => {
    // Given the send page, with the example payload of the chosen event filled in
    await page.goto(`${s.url}/_dashboard/send`);
    const payload = page.locator('#send-payload');
    assert.match(await payload.inputValue(), /"receiptId"/);
    assert.ok((await pageWidth(page)) <= 390, 'the send page fits 390 px');

    // When an invalid payload is published, the API's per-field errors show
    await payload.fill('{"receiptId": 7}');
    await page.getByRole('button', { name: 'Publish' }).click();
    const errors = page.locator('#send-result .field-errors li');
    await errors.first().waitFor();
    const fields = await errors.allTextContents();
    assert.ok(
      fields.some((f) => /receiptId|transactionId|objectKey/.test(f)),
      `per-field errors: ${fields.join(' | ')}`,
    );

    // When a valid one is published, its eventId links to the delivery view
    await payload.fill(JSON.stringify({ receiptId: 'rc-42', transactionId: 'tx-42', objectKey: 'r/42.jpg' }));
    await page.getByRole('button', { name: 'Publish' }).click();
    const link = page.locator('#send-result a');
    await link.waitFor();
    await page.screenshot({ path: join(tmpdir(), 'dashboard-send.png'), fullPage: true });
    const eventId = (await link.textContent()) ?? '';
    await s.waitFor((l) => l.includes(eventId.slice(0, 8)) && l.includes('Echo/Say'));
    await link.click();

    // Then the delivery view shows the payload, the completed delivery with its result and log lines
    await page.locator('#payload').waitFor();
    assert.match((await page.locator('#payload').textContent()) ?? '', /"receiptId": "rc-42"/);
    const card = page.locator('article.rpc-delivery[data-rpc="Echo/Say"]');
    assert.match((await card.locator('.status').textContent()) ?? '', /COMPLETED/);
    assert.equal(await card.locator('[data-field="attempts"]').textContent(), '1');
    assert.match((await card.locator('[data-field="result"]').textContent()) ?? '', /"marker": "v1"/);
    await card.getByText('Worker log').click();
    assert.match((await card.locator('pre.log').textContent()) ?? '', /Delivery completed/);
    assert.ok((await pageWidth(page)) <= 390, 'the delivery view fits 390 px');
    await page.screenshot({ path: join(tmpdir(), 'dashboard-delivery.png'), fullPage: true });

    // And the dashboard's recent deliveries show it on one line, with a short id
    await page.goto(s.url);
    const row = page.locator('#deliveries-body tr').filter({ hasText: eventId.slice(0, 8) });
    await row.first().waitFor();
    const height = await row
      .first()
      .evaluate((node) => (node as unknown as { offsetHeight: number }).offsetHeight);
    assert.ok(height < 60, `one line per delivery (row is ${height} px high)`);
    assert.ok(!((await row.first().textContent()) ?? '').includes(eventId), 'the eventId is shortened');
  });

  it('follows a router file change that adds an RPC: graph, queues, DLQ peek and status', async () => {
    // When the router file subscribes a second RPC and dev reloads
    const from = s.lines.length;
    writeFileSync(s.routerFile, routerYaml(true));
    await s.waitFor((l) => l.startsWith('Reloaded:'), from, 800_000);

    // Then the dashboard shows it in the graph and the queue table, and peeks at its DLQ
    await page.goto(s.url);
    await page.locator('.subscribers .rpc-name', { hasText: 'Echo/Listen' }).first().waitFor();
    await page.locator('tr[data-rpc="Echo/Listen"]').waitFor();
    await page.locator('a[data-peek="Echo/Listen"]').click();
    await page.locator('#peek-result').getByText('is empty').waitFor();

    // And the status endpoint's graph is the same one
    const status = (await (await fetch(`${s.url}/_status`)).json()) as {
      graph?: { rpcs: Array<{ id: string }> };
    };
    assert.deepEqual(
      status.graph?.rpcs.map((r) => r.id),
      ['Echo/Say', 'Echo/Listen'],
    );
  });
});
