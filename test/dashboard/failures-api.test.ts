/**
 * The dashboard's failure actions against the real local runtime: failure groups, a group redrive
 * frozen at the reading with its progress, edit and retry with per-field schema errors, purge with the
 * queue name typed, the audit trail, and the refusal of every action from another site.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DashboardHarness, STRICT_SPEC, startDashboardHarness } from './harness.ts';

const CHARGE = 'BillingService/ChargeCard';
const RECEIPT = 'MailService/SendReceipt';
const API = '/_dashboard/api';

interface Group {
  id: string;
  rpc: string;
  errorType: string;
  count: number;
  messageIds?: string[];
  sampleMessageId: string;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('dashboard failure actions', { timeout: 120_000 }, () => {
  let h: DashboardHarness;
  before(async () => {
    h = await startDashboardHarness(STRICT_SPEC);
  });
  after(async () => {
    await h?.close();
  });

  const post = (path: string, init: RequestInit = {}) =>
    h.getJson<Record<string, unknown>>(path, { method: 'POST', ...init });

  it('groups failures and redrives one group as it was read, with progress', async () => {
    // Given four timeouts and one refusal on the charge DLQ
    for (const id of ['o-1', 'o-2', 'o-3', 'o-4'])
      await h.deadLetter(CHARGE, 'order.placed', id, {
        type: 'Timeout',
        message: `bank did not answer in ${id.length * 1000} ms`,
      });
    await h.deadLetter(CHARGE, 'order.placed', 'o-9', { type: 'Refused', message: 'card blocked' });
    // When the failures are read
    const { status, body } = await h.getJson<{ snapshot: string; groups: Group[] }>(`${API}/failures`);
    assert.equal(status, 200);
    const timeout = body.groups.find((g) => g.errorType === 'Timeout');
    assert.equal(timeout?.count, 4);
    assert.equal(timeout?.messageIds, undefined, 'message ids stay on the server');
    assert.equal(body.groups.length, 2);
    // And a fifth timeout arrives after the reading
    await h.deadLetter(CHARGE, 'order.placed', 'o-5', {
      type: 'Timeout',
      message: 'bank did not answer in 3000 ms',
    });
    // Then a redrive from another site, or by GET, is refused
    const url = `${API}/failures/redrive?snapshot=${body.snapshot}&group=${timeout?.id}`;
    assert.equal((await post(url, { headers: { origin: 'http://evil.example' } })).status, 403);
    assert.equal((await h.getJson(url)).status, 405);
    // When the group is redriven at 2/s from the page's origin
    const started = await post(`${url}&rate=2`, { headers: { origin: h.url } });
    assert.equal(started.status, 202);
    const jobId = String(started.body.id);
    const job = await until('the job to finish', async () => {
      const j = await h.getJson<{ state: string; moved: number; total: number }>(`${API}/jobs/${jobId}`);
      return j.body.state === 'running' ? undefined : j.body;
    });
    // Then the four read are moved, the late one and the other group stay
    assert.deepEqual([job.state, job.moved, job.total], ['done', 4, 4]);
    assert.deepEqual(await h.depth(CHARGE, 'queue'), { visible: 4, inFlight: 0 });
    assert.deepEqual(await h.depth(CHARGE, 'dlq'), { visible: 2, inFlight: 0 });
    // And the page shows the job's result
    const page = await (await fetch(`${h.url}/?job=${jobId}`)).text();
    assert.match(page, /Done: 4 of 4 moved/);
    // And the Failures view lists what is left
    const view = await (await fetch(`${h.url}/?view=failures`)).text();
    assert.match(view, /<h2 id="failures-title">Failures<\/h2>/);
    assert.match(view, /data-redrive-group="[0-9a-f]{12}" aria-label="Redrive the 1 message\(s\) of group/);
  });

  it('edits and retries with per-field schema errors, from JSON and from the plain form', async () => {
    await h.deadLetter(
      RECEIPT,
      'order.placed',
      'e-1',
      { type: 'ValidationError', message: 'email missing' },
      {
        payload: { orderId: 'o-1' },
      },
    );
    const [letter] = (
      await h.getJson<{ messages: Array<{ messageId: string }> }>(
        `${API}/dlq?rpc=${encodeURIComponent(RECEIPT)}`,
      )
    ).body.messages;
    assert.ok(letter);
    const q = `rpc=${encodeURIComponent(RECEIPT)}&messageId=${encodeURIComponent(letter.messageId)}`;
    const current = await h.getJson<{ eventName: string; payload: unknown }>(`${API}/message?${q}`);
    assert.deepEqual(current.body, {
      rpc: RECEIPT,
      messageId: letter.messageId,
      eventName: 'order.placed',
      payload: { orderId: 'o-1' },
    });
    // An invalid edit as JSON: 422 naming each field, nothing sent
    const bad = await post(`${API}/edit?${q}`, {
      headers: { origin: h.url, 'content-type': 'application/json' },
      body: JSON.stringify({ payload: { orderId: 7 } }),
    });
    assert.equal(bad.status, 422);
    assert.deepEqual((bad.body.violations as Array<{ pointer: string }>).map((v) => v.pointer).sort(), [
      '/email',
      '/orderId',
    ]);
    // An invalid edit from the plain form: the page again, with the errors and the text kept
    const form = await fetch(`${h.url}${API}/edit?${q}`, {
      method: 'POST',
      headers: { origin: h.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payload: '{"orderId": "o-1"}' }).toString(),
      redirect: 'manual',
    });
    assert.equal(form.status, 422);
    const html = await form.text();
    assert.match(html, /<li><code>\/email<\/code> is required<\/li>/);
    assert.match(html, /\{&quot;orderId&quot;: &quot;o-1&quot;\}<\/textarea>/);
    assert.deepEqual(await h.depth(RECEIPT, 'queue'), { visible: 0, inFlight: 0 });
    // From another site: refused
    const cross = await post(`${API}/edit?${q}`, {
      headers: { origin: 'http://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ payload: { orderId: 'o-1', email: 'x@y.z' } }),
    });
    assert.equal(cross.status, 403);
    // A valid edit from the form: sent, the original gone, back to the page with a notice
    const ok = await fetch(`${h.url}${API}/edit?${q}`, {
      method: 'POST',
      headers: { origin: h.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payload: '{"orderId": "o-1", "email": "x@y.z"}' }).toString(),
      redirect: 'manual',
    });
    assert.equal(ok.status, 303);
    assert.match(ok.headers.get('location') ?? '', /^\/\?edited=/);
    assert.deepEqual(await h.depth(RECEIPT, 'queue'), { visible: 1, inFlight: 0 });
    assert.deepEqual(await h.depth(RECEIPT, 'dlq'), { visible: 0, inFlight: 0 });
  });

  it('purges only with the queue name typed, and the audit shows who did what', async () => {
    const wrong = await post(`${API}/purge?rpc=${encodeURIComponent(CHARGE)}&confirm=nope`, {
      headers: { origin: h.url },
    });
    assert.equal(wrong.status, 400);
    assert.deepEqual(await h.depth(CHARGE, 'dlq'), { visible: 2, inFlight: 0 });
    const dlqName = 'shop-test-billing-service-charge-card-dlq';
    const purged = await post(`${API}/purge?rpc=${encodeURIComponent(CHARGE)}&confirm=${dlqName}`, {
      headers: { origin: h.url },
    });
    assert.equal(purged.status, 200);
    assert.equal(purged.body.count, 2);
    assert.deepEqual(await h.depth(CHARGE, 'dlq'), { visible: 0, inFlight: 0 });
    const audit = await h.getJson<{ entries: Array<{ who: string; action: string; count: number }> }>(
      `${API}/audit`,
    );
    assert.deepEqual(
      audit.body.entries.map((e) => `${e.who} ${e.action} ${e.count}`),
      ['test:operator purge 2', 'test:operator edit 1', 'test:operator redrive-set 4'],
    );
    const page = await (await fetch(`${h.url}/`)).text();
    assert.match(page, /<h2 id="audit-title">Audit trail<\/h2>/);
    assert.match(page, /test:operator<\/td><td>purge<\/td>/);
  });
});
