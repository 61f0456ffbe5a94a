/**
 * The delivery view's own parts: the runtime's event log (payloads, causation, worker log lines) and
 * the page drawn from it: a follow-up tree with links, escaped text, the payload as routed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LookupRow } from '../../lib/local/dashboard/data.ts';
import { type DeliveryView, renderDeliveryPage } from '../../lib/local/dashboard/delivery-view.ts';
import { EventLog } from '../../lib/local/runtime/event-log.ts';

function routed(log: EventLog, eventId: string, name: string, causationId?: string): void {
  log.noteRouted({
    version: '0',
    id: `eb-${eventId}`,
    'detail-type': name,
    source: 'test',
    account: '000000000000',
    time: '2026-12-04T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      metadata: { eventId, correlationId: 'c-1', ...(causationId ? { causationId } : {}) },
      payload: { n: eventId },
    },
  });
}

describe('delivery view', () => {
  it('the event log keeps payloads, follow-ups by causationId and the worker lines naming an event', () => {
    const log = new EventLog();
    routed(log, 'e-1', 'order.placed');
    routed(log, 'e-2', 'order.charged', 'e-1');
    routed(log, 'e-3', 'receipt.sent', 'e-2');
    routed(log, 'e-2', 'order.charged', 'e-1'); // routed to a second rule: one event
    log.noteOutput(
      'fn',
      '{"level":"INFO","message":"Delivery completed","eventId":"e-1","rpc":"Billing/Charge"}',
    );
    log.noteOutput('fn', 'plain text without an eventId');

    assert.deepEqual(log.event('e-1')?.payload, { n: 'e-1' });
    assert.deepEqual(log.followUps('e-1'), ['e-2']);
    assert.deepEqual(log.followUps('e-2'), ['e-3']);
    assert.deepEqual(
      log.logLines('e-1').map((l) => l.rpc),
      ['Billing/Charge'],
    );
  });

  it('draws the payload, each RPC with its stored result and the causation tree with links', () => {
    const row: LookupRow & { lines: [] } = {
      rpc: 'Billing/Charge',
      status: 'COMPLETED',
      subscribed: true,
      filtered: false,
      lines: [],
      record: {
        eventId: 'e-1',
        rpc: 'Billing/Charge',
        status: 'COMPLETED',
        eventName: 'order.placed',
        attempts: 2,
        updatedAt: 1_764_842_400_000,
        firstAttemptAt: 1_764_842_399_000,
        completedAt: 1_764_842_400_000,
        result: '{"charged":"<b>yes</b>"}',
      },
    };
    const view: DeliveryView = {
      eventId: 'e-1',
      eventName: 'order.placed',
      event: {
        eventId: 'e-1',
        name: 'order.placed',
        source: 'shop',
        time: '2026-12-04T10:00:00Z',
        payload: { total: 5 },
      },
      rows: [row],
      followUps: [
        {
          eventId: 'e-2',
          name: 'order.charged',
          children: [{ eventId: 'e-3', name: 'receipt.sent', children: [] }],
        },
      ],
    };
    const page = renderDeliveryPage(view);
    assert.match(page, /<pre id="payload">\{\n {2}&quot;total&quot;: 5\n\}<\/pre>/);
    assert.match(page, /<dd data-field="attempts">2<\/dd>/);
    assert.match(page, /&lt;b&gt;yes&lt;\/b&gt;/, 'stored text is escaped');
    assert.match(
      page,
      /<a href="\/_dashboard\/delivery\?eventId=e-2">order\.charged<\/a>.*<ul class="causation"><li><a href="\/_dashboard\/delivery\?eventId=e-3">receipt\.sent<\/a>/s,
    );
    assert.match(page, /1000 ms from first claim/);
  });
});
