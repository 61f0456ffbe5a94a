/**
 * The server-rendered page: everything readable without JavaScript, and every value from the spec,
 * the queues and the deliveries table escaped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { escapeHtml, html } from '../../lib/local/dashboard/html.ts';
import { type DashboardHarness, startDashboardHarness } from './harness.ts';

const RECEIPT = 'MailService/SendReceipt';
const HOSTILE_ID = '"><svg onload=alert(3)>';
/** A last error far longer than two lines of its column, with markup in it. */
const LONG_ERROR = `the carrier "<i>slow</i>" did not answer; ${'waited and retried again '.repeat(12)}end`;

describe('html escaping', () => {
  it('escapes interpolated values and keeps nested markup built with html', () => {
    assert.equal(
      escapeHtml(`<a href="x" title='y'>&</a>`),
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
    const inner = html`<b>${'<i>'}</b>`;
    assert.equal(
      html`<p>${inner}${['<', 1, null, undefined, false]}</p>`.value,
      '<p><b>&lt;i&gt;</b>&lt;1</p>',
    );
  });
});

describe('dashboard page', () => {
  let h: DashboardHarness;
  let page: string;
  let headers: Headers;
  before(async () => {
    h = await startDashboardHarness();
    // Given hostile text in a dead letter, a delivery record and an eventId
    await h.deadLetter(RECEIPT, 'order.placed', HOSTILE_ID, {
      type: 'Bad<Type>',
      message: '<img src=x onerror=alert(1)>',
    });
    await h.putDelivery({
      eventId: HOSTILE_ID,
      rpc: RECEIPT,
      status: 'DEAD',
      updatedAt: Date.UTC(2026, 10, 25, 10, 0, 0),
      lastError: { name: 'Boom', message: '<script>alert(2)</script>', retryable: false },
    });
    await h.putDelivery({
      eventId: 'ord-long',
      rpc: RECEIPT,
      status: 'FAILED',
      updatedAt: Date.UTC(2026, 10, 25, 9, 30, 0),
      lastError: { name: 'Timeout', message: LONG_ERROR, retryable: true },
    });
    await h.putDelivery({
      eventId: 'ord-1',
      rpc: 'BillingService/ChargeCard',
      status: 'COMPLETED',
      updatedAt: Date.UTC(2026, 10, 25, 9, 0, 0),
    });
    // When the page is asked for with a peek and a lookup of that event
    const q = new URLSearchParams({ peek: RECEIPT, eventId: HOSTILE_ID });
    const response = await fetch(`${h.url}/?${q}`);
    assert.equal(response.status, 200);
    headers = response.headers;
    page = await response.text();
  });
  after(async () => {
    await h.close();
  });

  it('renders the graph, depths and deliveries without JavaScript', () => {
    assert.match(page, /<h3 class="node-title">order\.placed<\/h3>/);
    assert.match(page, /<h3 class="node-title">order\.shipped<\/h3>/);
    assert.match(page, /aria-label="Subscribers of order\.placed"/);
    assert.match(page, /published by <strong>ShopService<\/strong>/);
    // the DLQ of SendReceipt holds one message: its cell is flagged and its Redrive button enabled
    assert.match(
      page,
      /<td class="num alert" data-depth="MailService\/SendReceipt" data-field="dlq\.visible">1<\/td>/,
    );
    assert.match(
      page,
      /<button type="submit" data-redrive="MailService\/SendReceipt" aria-label="[^"]*">Redrive<\/button>/,
    );
    assert.match(page, /<button type="submit" data-redrive="BillingService\/ChargeCard" disabled/);
    // recent deliveries fit one line: the time of day, the whole instant in its title
    assert.match(
      page,
      /<time datetime="2026-11-25T09:00:00.000Z" title="2026-11-25 09:00:00 UTC">09:00:00<\/time>/,
    );
    assert.match(page, /<span class="status status-completed">COMPLETED<\/span>/);
    assert.match(page, /<label for="lookup-event-id">eventId<\/label>/);
  });

  it('renders the peek and the lookup asked for in the query string', () => {
    assert.match(page, /Dead letters of <strong>MailService\/SendReceipt<\/strong> \(1 shown\)/);
    assert.match(page, /<span class="status status-dead">DEAD<\/span>/);
    // ChargeCard subscribes to order.placed without a filter and has no record: PENDING
    assert.match(
      page,
      /<td>BillingService\/ChargeCard<\/td>\s*<td><span class="status status-pending">PENDING<\/span><\/td>/,
    );
  });

  it('escapes every value from the spec, the DLQ and the deliveries table', () => {
    for (const hostile of [
      '<script>alert',
      '<img src=x',
      '<svg onload',
      '<b>now</b>',
      '</pre><script>',
      'Bad<Type>',
    ])
      assert.ok(!page.includes(hostile), `page contains unescaped ${hostile}`);
    assert.ok(page.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(page.includes('Boom: &lt;script&gt;alert(2)&lt;/script&gt;'));
    assert.ok(page.includes('&quot;&gt;&lt;svg onload=alert(3)&gt;'));
    assert.ok(page.includes('A customer placed an order &lt;b&gt;now&lt;/b&gt; &amp; paid'));
    assert.ok(page.includes('&lt;/pre&gt;&lt;script&gt;alert(\\&quot;filter\\&quot;)&lt;/script&gt;'));
    // the only scripts are the dashboard's own file, and the policy forbids inline ones
    assert.deepEqual(page.match(/<script[^>]*>/g), ['<script src="/_dashboard/client.js" defer>']);
    assert.match(headers.get('content-security-policy') ?? '', /script-src 'self';/);
    assert.equal(headers.get('x-content-type-options'), 'nosniff');
  });

  it('clamps a long last error, with the whole text in its title and in a details that opens to it', () => {
    const text = escapeHtml(`Timeout: ${LONG_ERROR}`);
    assert.ok(
      page.includes(
        `<details class="last-error" title="${text}" data-key="ord-long ${RECEIPT}"><summary><span class="clamp">${text}</span></summary></details>`,
      ),
      'the long error is in a clamped details',
    );
    assert.ok(!page.includes('<i>slow</i>'), 'the long error is escaped');
    // a short error stays plain text
    assert.match(page, /<td>Boom: &lt;script&gt;alert\(2\)&lt;\/script&gt;<\/td>/);
  });

  it('names an inline icon, so a browser asks for no /favicon.ico the runtime would answer 404', () => {
    assert.match(page, /<link rel="icon" href="data:,">/);
    // the page's Content-Security-Policy allows it
    assert.match(headers.get('content-security-policy') ?? '', /img-src [^;]*data:/);
  });

  it('serves its script and style sheet from the same port', async () => {
    const js = await fetch(`${h.url}/_dashboard/client.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(await js.text(), /REFRESH_MS = 2000/);
    const css = await fetch(`${h.url}/_dashboard/style.css`);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    assert.equal((await fetch(`${h.url}/_dashboard/nothing.js`)).status, 404);
  });

  it('answers HEAD for the page and the /_dashboard alias', async () => {
    const head = await fetch(`${h.url}/_dashboard`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.match(head.headers.get('content-type') ?? '', /^text\/html/);
  });
});
