/**
 * End to end on the local runtime: the example router synthesized by the real CDK app, the publish API
 * served from its template at `/api/events`, the real worker functions handling the deliveries.
 * Publishes over HTTP (and with the CLI), then follows every event to its RPCs through
 * `GET /api/events/{eventId}`, the deliveries table, the queues and the runtime's logs.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { BusEvent, EventMetadata } from '../../common/contracts.ts';
import type { EventStatus } from '../../common/status.ts';
import type { EntryResult } from '../../functions/publish/handler.ts';
import type { FieldProblem } from '../../functions/publish/request.ts';
import { eventually } from '../local/helpers.ts';
import { exampleTransaction } from '../support/example-payloads.ts';
import {
  type ExampleApp,
  getStatus,
  post,
  readRecord,
  runCli,
  startExampleApp,
  subscribersOf,
  WAIT_MS,
  waitForCompleted,
  waitForDrained,
} from './app.ts';

const AUTHORIZED = 'card.transaction.authorized';
const RECORDED = 'ledger.entry.recorded';
const RECORD_TRANSACTION = 'LedgerService/RecordTransaction';
const UPDATE_SPEND_SUMMARY = 'ReportingService/UpdateSpendSummary';
const REQUEST_RECEIPT = 'ReceiptService/RequestReceipt';
/** The RequestReceipt filter of event-router.yaml takes amounts from 7500 (75.00) up. */
const RECEIPT_THRESHOLD = 7500;

interface Problems {
  readonly message: string;
  readonly errors: readonly FieldProblem[];
}

let app: ExampleApp;

/** Publishes one event through the API and returns its eventId (asserting 202 ACCEPTED). */
async function publishOne(body: Record<string, unknown>): Promise<string> {
  const { status, body: result, text } = await post<EntryResult>(app, body);
  assert.equal(status, 202, text);
  assert.equal(result.status, 'ACCEPTED', text);
  assert.equal(result.event, body.event);
  assert.match(result.eventId, /^[0-9a-f-]{36}$/);
  return result.eventId;
}

const rpcNames = (status: EventStatus) => status.rpcs.map((rpc) => rpc.rpc).sort();

/** The events the bus routed (one per event, whatever the number of its targets). */
function busEvents(): BusEvent[] {
  const seen = new Map<string, BusEvent>();
  for (const route of app.routes) seen.set(route.event.id, route.event as unknown as BusEvent);
  return [...seen.values()];
}

const metadataOf = (event: BusEvent) => event.detail.metadata as EventMetadata;

/** A worker's structured log line (undefined when the line is not JSON). */
function workerLine(
  text: string,
): { message?: string; eventId?: string; rpc?: string; outcome?: string } | undefined {
  try {
    const line: unknown = JSON.parse(text);
    return typeof line === 'object' && line !== null ? line : undefined;
  } catch {
    return undefined;
  }
}

describe('publishing on the local runtime, end to end', { timeout: 240_000 }, () => {
  before(async () => {
    app = await startExampleApp();
  });
  after(async () => {
    await app?.close();
  });

  it('POST one event: 202 with its eventId, then every subscribed RPC shows COMPLETED', async () => {
    const { all } = subscribersOf(app, AUTHORIZED);
    assert.ok(all.includes(REQUEST_RECEIPT) && all.length >= 3, `subscribers: ${all.join(', ')}`);
    const eventId = await publishOne({
      event: AUTHORIZED,
      payload: exampleTransaction(RECEIPT_THRESHOLD + 5_000),
    });

    const status = await waitForCompleted(app, eventId, all);
    assert.equal(status.eventId, eventId);
    assert.equal(status.event, AUTHORIZED);
    assert.equal(status.completed, true);
    assert.deepEqual(rpcNames(status), [...all].sort(), 'exactly the subscribers of event-router.yaml');
    assert.equal(status.summary.COMPLETED, all.length);
    for (const rpc of status.rpcs) {
      assert.equal(rpc.status, 'COMPLETED');
      if (rpc.status === 'COMPLETED') {
        assert.equal(rpc.attempts, 1, `${rpc.rpc} ran once`);
        assert.ok(rpc.completedAt && !Number.isNaN(Date.parse(rpc.completedAt)), `${rpc.rpc} completedAt`);
      }
    }
  });

  it('an RPC whose content filter excludes the payload stays PENDING with filtered: true', async () => {
    const { all, filtered } = subscribersOf(app, AUTHORIZED);
    assert.deepEqual(filtered, [REQUEST_RECEIPT], 'the YAML filters RequestReceipt only');
    const reached = all.filter((rpc) => !filtered.includes(rpc));
    const eventId = await publishOne({
      event: AUTHORIZED,
      payload: exampleTransaction(RECEIPT_THRESHOLD - 1),
    });

    await waitForCompleted(app, eventId, reached);
    // The API answers once the bus has queued every matching target, so when all the subscribers'
    // queues are empty, nothing more can arrive for this event.
    await waitForDrained(app, all);
    const { status, body } = await getStatus(app, eventId);
    assert.equal(status, 200);
    assert.deepEqual(rpcNames(body), [...all].sort());
    assert.deepEqual(
      body.rpcs.find((rpc) => rpc.rpc === REQUEST_RECEIPT),
      { rpc: REQUEST_RECEIPT, status: 'PENDING', filtered: true },
    );
    assert.equal(body.completed, false);
    assert.equal(body.summary.COMPLETED, reached.length);
    assert.equal(body.summary.PENDING, 1);
    assert.equal(await readRecord(app, eventId, REQUEST_RECEIPT), undefined, 'RequestReceipt never ran');
  });

  it('a batch of events of different names: every entry ACCEPTED, every one delivered', async () => {
    const reportId = `rep-${randomUUID()}`;
    const entries = [
      { event: AUTHORIZED, payload: exampleTransaction(RECEIPT_THRESHOLD) },
      {
        event: 'card.transaction.settled',
        payload: { transactionId: 't-9', settledAmount: 900, currency: 'EUR' },
      },
      {
        event: 'receipt.uploaded',
        payload: { receiptId: 'r-9', transactionId: 't-9', objectKey: 'receipts/r-9.jpg' },
      },
      {
        event: 'expense.report.submitted',
        payload: { reportId, employeeId: 'e-1', approverId: 'e-2', total: 4_200, currency: 'EUR' },
      },
      {
        event: 'expense.report.approved',
        payload: { reportId, employeeId: 'e-1', total: 4_200, currency: 'EUR', approvedBy: 'e-2' },
      },
    ];
    const { status, body, text } = await post<{ failedCount: number; entries: EntryResult[] }>(app, {
      entries,
    });
    assert.equal(status, 202, text);
    assert.equal(body.failedCount, 0, text);
    assert.equal(body.entries.length, entries.length);
    assert.deepEqual(
      body.entries.map((entry) => [entry.event, entry.status]),
      entries.map((entry) => [entry.event, 'ACCEPTED']),
    );
    assert.equal(new Set(body.entries.map((entry) => entry.eventId)).size, entries.length, 'distinct ids');

    await Promise.all(
      body.entries.map(async (entry) => {
        const { all } = subscribersOf(app, entry.event);
        assert.ok(all.length > 0, `${entry.event} has subscribers`);
        const done = await waitForCompleted(app, entry.eventId, all);
        assert.equal(done.completed, true, `${entry.event}: ${JSON.stringify(done.rpcs)}`);
        assert.deepEqual(rpcNames(done), [...all].sort(), `${entry.event} reached exactly its subscribers`);
      }),
    );
  });

  it('the same idempotencyKey twice: the same eventId, and each subscribed RPC runs exactly once', async () => {
    const { all } = subscribersOf(app, AUTHORIZED);
    const request = {
      event: AUTHORIZED,
      idempotencyKey: `key-${randomUUID()}`,
      payload: exampleTransaction(RECEIPT_THRESHOLD + 1),
    };
    const eventId = await publishOne(request);
    await waitForCompleted(app, eventId, all);
    await waitForDrained(app, [...all, UPDATE_SPEND_SUMMARY]);
    const first = new Map<string, number | undefined>();
    for (const rpc of all) {
      const record = await readRecord(app, eventId, rpc);
      assert.equal(record?.status, 'COMPLETED', rpc);
      first.set(rpc, record?.completedAt);
    }

    const again = await publishOne(request);
    assert.equal(again, eventId, 'the retry gets the same eventId');
    // The second copy reaches every RPC; each worker acknowledges it without running the handler.
    const duplicateLines = (rpc: string) =>
      app.output.filter((out) => {
        const line = workerLine(out.line);
        return (
          line?.eventId === eventId &&
          line.rpc === rpc &&
          (line.outcome === 'duplicate' ||
            line.message?.startsWith('Duplicate delivery acknowledged without running') === true)
        );
      });
    await eventually(
      () => (all.every((rpc) => duplicateLines(rpc).length === 1) ? true : undefined),
      WAIT_MS,
      'every RPC to acknowledge the duplicate',
    );
    await waitForDrained(app, [...all, UPDATE_SPEND_SUMMARY]);

    for (const rpc of all) {
      const record = await readRecord(app, eventId, rpc);
      assert.equal(record?.status, 'COMPLETED', rpc);
      assert.equal(record?.attempts, 1, `${rpc}: one handler run`);
      assert.equal(record?.completedAt, first.get(rpc), `${rpc}: completedAt unchanged`);
      const received = app.deliveries.filter((d) => d.eventId === eventId && d.rpc === rpc);
      assert.equal(received.length, 2, `${rpc} received both copies`);
      for (const delivery of received)
        assert.ok(['ok', 'duplicate'].includes(delivery.outcome), `${rpc}: ${delivery.outcome}`);
    }
    const { body } = await getStatus(app, eventId);
    assert.equal(body.completed, true);
    for (const rpc of body.rpcs) assert.equal(rpc.status === 'COMPLETED' && rpc.attempts, 1, rpc.rpc);
    // RecordTransaction ran once, so it published its follow-up once.
    const followUps = busEvents().filter(
      (event) => event['detail-type'] === RECORDED && metadataOf(event).causationId === eventId,
    );
    assert.equal(followUps.length, 1, 'one ledger.entry.recorded caused by the event');
  });

  describe('bad requests through the API route, each naming the field', () => {
    it('malformed JSON: 400 on body', async () => {
      const { status, body, text } = await post<Problems>(app, '{"event": "card.transaction.authorized",');
      assert.equal(status, 400, text);
      assert.equal(body.errors[0]?.field, 'body');
      assert.match(body.errors[0]?.message ?? '', /not valid JSON/);
    });

    it('an unknown event: 400 on event, with the closest known names', async () => {
      const { status, body, text } = await post<Problems>(app, {
        event: 'card.transaction.authorised',
        payload: exampleTransaction(1),
      });
      assert.equal(status, 400, text);
      assert.equal(body.errors.length, 1, text);
      assert.equal(body.errors[0]?.field, 'event');
      assert.equal(body.errors[0]?.suggestions?.[0], AUTHORIZED);
      assert.match(body.message, /card\.transaction\.authorized/);
    });

    it('a schema violation: 400 on payload with a JSON pointer per violation', async () => {
      const payload = { ...exampleTransaction(-5), currency: 'eur' };
      const { status, body, text } = await post<Problems>(app, { event: AUTHORIZED, payload });
      assert.equal(status, 400, text);
      assert.ok(
        body.errors.every((error) => error.field === 'payload'),
        text,
      );
      assert.deepEqual(body.errors.map((error) => error.pointer).sort(), ['/amount', '/currency']);
      assert.ok(
        !busEvents().some((event) => JSON.stringify(event.detail).includes(payload.transactionId)),
        'nothing was published',
      );
    });

    it('a violation inside a batch names the entry', async () => {
      const { status, body, text } = await post<Problems>(app, {
        entries: [
          { event: AUTHORIZED, payload: exampleTransaction(1) },
          { event: AUTHORIZED, payload: { ...exampleTransaction(1), merchant: { name: 'x' } } },
        ],
      });
      assert.equal(status, 400, text);
      assert.deepEqual(
        body.errors.map((error) => [error.field, error.pointer]),
        [['entries[1].payload', '/merchant/category']],
      );
    });

    it('too many entries: 400 on entries', async () => {
      const entries = Array.from({ length: 101 }, () => ({
        event: AUTHORIZED,
        payload: exampleTransaction(1),
      }));
      const { status, body, text } = await post<Problems>(app, { entries });
      assert.equal(status, 400, text);
      assert.equal(body.errors[0]?.field, 'entries');
      assert.match(body.errors[0]?.message ?? '', /at most 100/);
    });

    it('an entry over 1 MB: 413 naming the payload', async () => {
      const payload = exampleTransaction(1);
      payload.merchant.name = 'x'.repeat(1024 * 1024);
      const { status, body, text } = await post<Problems>(app, { event: AUTHORIZED, payload });
      assert.equal(status, 413, text.slice(0, 500));
      assert.equal(body.errors[0]?.field, 'payload');
      assert.match(body.errors[0]?.message ?? '', /limit is \d+ bytes/);
    });

    it('an unknown eventId: 404 on eventId', async () => {
      const { status, body } = await getStatus(app, randomUUID());
      assert.equal(status, 404);
      assert.equal((body as unknown as Problems).errors[0]?.field, 'eventId');
    });
  });

  it('a follow-up event carries the correlationId, with the first event as its cause', async () => {
    const correlationId = `corr-${randomUUID()}`;
    const eventId = await publishOne({
      event: AUTHORIZED,
      correlationId,
      payload: exampleTransaction(1_000),
    });
    const first = await waitForCompleted(app, eventId, [RECORD_TRANSACTION]);
    assert.equal(first.correlationId, correlationId);

    const record = await readRecord(app, eventId, RECORD_TRANSACTION);
    const result = JSON.parse(record?.result ?? '{}') as { followUpEventId?: string; department?: string };
    const followUpId = result.followUpEventId;
    assert.ok(followUpId, `RecordTransaction returned its follow-up's id: ${record?.result}`);
    assert.notEqual(followUpId, eventId);

    const followUp = await waitForCompleted(app, followUpId, [UPDATE_SPEND_SUMMARY]);
    assert.equal(followUp.event, RECORDED);
    assert.equal(followUp.correlationId, correlationId, 'the status shows the same correlationId');
    assert.deepEqual(rpcNames(followUp), subscribersOf(app, RECORDED).all.sort());
    assert.equal((await readRecord(app, followUpId, UPDATE_SPEND_SUMMARY))?.correlationId, correlationId);

    const onBus = busEvents().find((event) => metadataOf(event).eventId === followUpId);
    assert.ok(onBus, 'the follow-up went over the bus');
    assert.equal(onBus['detail-type'], RECORDED);
    assert.equal(metadataOf(onBus).correlationId, correlationId);
    assert.equal(metadataOf(onBus).causationId, eventId);
    assert.equal((onBus.detail.payload as { department?: string }).department, result.department);
  });

  describe('the CLI against the runtime', () => {
    it('event-router publish, then event-router status shows every RPC COMPLETED', async () => {
      const { all } = subscribersOf(app, AUTHORIZED);
      const key = `cli-${randomUUID()}`;
      const published = await runCli(app, [
        'publish',
        AUTHORIZED,
        JSON.stringify(exampleTransaction(RECEIPT_THRESHOLD + 100)),
        '--idempotency-key',
        key,
        '--json',
      ]);
      assert.equal(published.code, 0, published.stderr);
      const { eventId, event } = JSON.parse(published.stdout) as { eventId: string; event: string };
      assert.equal(event, AUTHORIZED);
      await waitForCompleted(app, eventId, all);

      const status = await runCli(app, ['status', eventId, '--json']);
      assert.equal(status.code, 0, `exit 0 when all completed: ${status.stderr}`);
      const shown = JSON.parse(status.stdout) as EventStatus;
      assert.equal(shown.eventId, eventId);
      assert.equal(shown.completed, true);
      assert.deepEqual(rpcNames(shown), [...all].sort());

      const text = await runCli(app, ['status', eventId]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`${all.length} of ${all.length} completed`));
      for (const rpc of all) assert.match(text.stdout, new RegExp(`${rpc}\\s+COMPLETED`));

      // The CLI and the API derive the same eventId from the same key.
      const viaApi = await publishOne({
        event: AUTHORIZED,
        idempotencyKey: key,
        payload: exampleTransaction(1),
      });
      assert.equal(viaApi, eventId);
    });

    it('event-router publish refuses an invalid payload naming the field; status of an unseen event', async () => {
      const [invalid, pending, unknown] = await Promise.all([
        runCli(app, ['publish', AUTHORIZED, JSON.stringify({ ...exampleTransaction(1), currency: 'euro' })]),
        runCli(app, ['status', randomUUID(), '--event', AUTHORIZED]),
        runCli(app, ['status', randomUUID()]),
      ]);
      assert.equal(invalid.code, 1, invalid.stderr);
      assert.match(invalid.stderr, /Not published/);
      assert.match(invalid.stderr, /currency/);
      assert.equal(pending.code, 3, `exit 3 while pending: ${pending.stderr}`);
      for (const rpc of subscribersOf(app, AUTHORIZED).all)
        assert.match(pending.stdout, new RegExp(`${rpc}\\s+PENDING`));
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /No RPC has received event/);
    });
  });
});
