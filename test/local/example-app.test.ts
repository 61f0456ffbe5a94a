/**
 * The example router (event-router.yaml) synthesized by the real CDK app and run by the runtime:
 * what would deploy is what runs. Runs the assembly the test files share (test/support/example-assembly.ts),
 * then publishes with the SDK and follows each delivery through the runtime's delivery log and the
 * deliveries table.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { run as dlq } from '../../lib/cli/commands/dlq.ts';
import { loadSpec } from '../../lib/config/load.ts';
import { publisherSource } from '../../lib/naming.ts';
import { exampleAssembly } from '../support/example-assembly.ts';
import { exampleTransaction } from '../support/example-payloads.ts';
import { eventually, type Harness, startHarness } from './helpers.ts';

const ROUTER = join(import.meta.dirname ?? '.', '..', '..', 'event-router.yaml');
const BUS = 'cardflow-dev-bus';
const TABLE = 'cardflow-dev-deliveries';

/** The source of the event's first declared publisher: the only kind of event its rules deliver. */
const SPEC = loadSpec(ROUTER, { checkHandlers: false }).spec;
function sourceOf(name: string): string {
  const publisher = SPEC?.events.find((event) => event.name === name)?.publishers[0];
  assert.ok(publisher, `${name} has a publisher`);
  return publisherSource('cardflow', publisher);
}

let h: Harness;

function envelope(eventId: string, payload: unknown): string {
  return JSON.stringify({
    metadata: {
      eventId,
      occurredAt: new Date().toISOString(),
      correlationId: eventId,
      publisher: 'test',
      schemaVersion: 1,
    },
    payload,
  });
}

async function publish(name: string, payload: unknown, source = sourceOf(name)): Promise<string> {
  const eventId = randomUUID();
  const out = await h.events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: BUS,
          Source: source,
          DetailType: name,
          Detail: envelope(eventId, payload),
        },
      ],
    }),
  );
  assert.equal(out.FailedEntryCount, 0, JSON.stringify(out.Entries));
  return eventId;
}

interface Envelope {
  readonly metadata?: { readonly eventId?: string };
}

function deliveriesOf(eventId: string) {
  return h.deliveries.filter((d) => d.eventId === eventId);
}

async function records(eventId: string): Promise<Record<string, string>> {
  const out = await h.dynamodb.send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: 'eventId = :id',
      ExpressionAttributeValues: { ':id': { S: eventId } },
    }),
  );
  const statuses: Record<string, string> = {};
  for (const item of out.Items ?? []) statuses[item.rpc?.S ?? '?'] = item.status?.S ?? '?';
  return statuses;
}

describe('the example app, synthesized and run locally', { timeout: 180_000 }, () => {
  before(async () => {
    h = await startHarness({ cdkOut: await exampleAssembly(), retryDelaySeconds: 0 });
  });
  after(async () => {
    await h?.close();
  });

  it('runs every resource of the templates it needs, with no problems', () => {
    const m = h.runtime.model;
    assert.deepEqual(m.problems, []);
    assert.ok(m.functions.length >= 10, `${m.functions.length} functions`);
    assert.equal(m.mappings.length, 10);
    assert.ok(m.rules.length >= 10);
  });

  it('fans an event out to its RPCs, each handled once, and records them as COMPLETED', async () => {
    const eventId = await publish('card.transaction.authorized', exampleTransaction(12_500));
    await eventually(
      async () => {
        const r = await records(eventId);
        return Object.values(r).filter((s) => s === 'COMPLETED').length === 3 ? r : undefined;
      },
      30_000,
      'three completed deliveries',
    );
    // The delivery log line follows the handler's return; the records are written before it.
    await eventually(
      () => (deliveriesOf(eventId).length === 3 ? true : undefined),
      10_000,
      'three delivery log lines',
    );
    assert.deepEqual(
      deliveriesOf(eventId)
        .map((d) => `${d.rpc}:${d.outcome}:${d.attempt}`)
        .sort(),
      [
        'LedgerService/RecordTransaction:ok:1',
        'NotificationService/NotifyCardholder:ok:1',
        'ReceiptService/RequestReceipt:ok:1',
      ],
    );
  });

  it('keeps an event from an RPC whose content filter excludes it', async () => {
    const eventId = await publish('card.transaction.authorized', exampleTransaction(100));
    await eventually(
      async () => {
        const r = await records(eventId);
        return Object.values(r).filter((s) => s === 'COMPLETED').length === 2 ? r : undefined;
      },
      30_000,
      'two completed deliveries',
    );
    // PutEvents answered once every target's copy was sent: the route log is final for this event,
    // so the queues it names are all the deliveries there will ever be (no retry is waiting either).
    const routed = h.routes.filter((r) => (r.event.detail as Envelope).metadata?.eventId === eventId);
    assert.deepEqual(routed.map((r) => `${r.outcome}:${r.targetArn.split(':').pop()}`).sort(), [
      'delivered:cardflow-dev-ledger-service-record-transaction',
      'delivered:cardflow-dev-notification-service-notify-cardholder',
    ]);
    assert.deepEqual(Object.keys(await records(eventId)).sort(), [
      'LedgerService/RecordTransaction',
      'NotificationService/NotifyCardholder',
    ]);
  });

  it('sends a message the handler rejects as non-retryable to the DLQ, and a move task runs it again', async () => {
    const eventId = await publish('receipt.uploaded', {
      receiptId: 'r-1',
      transactionId: 't-1',
      objectKey: 'elsewhere/x.jpg',
    });
    const dlqUrl = `${h.runtime.url}/000000000000/cardflow-dev-receipt-service-link-receipt-dlq`;
    const depth = async () => {
      const { Attributes = {} } = await h.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      return Number(Attributes.ApproximateNumberOfMessages);
    };
    await eventually(async () => ((await depth()) === 1 ? true : undefined), 30_000, 'the DLQ');
    const { Messages = [] } = await h.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageAttributeNames: ['All'], VisibilityTimeout: 0 }),
    );
    assert.ok(Messages[0]?.Body?.includes(eventId));
    assert.ok(
      Object.keys(Messages[0]?.MessageAttributes ?? {}).length > 0,
      'the worker annotated the dead letter',
    );
    // The delivery log line follows the handler's return (the dead letter is sent before it).
    await eventually(
      () => (deliveriesOf(eventId).length >= 1 ? true : undefined),
      10_000,
      'the first run logged',
    );
    const runsBefore = deliveriesOf(eventId).length;
    await h.sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: 'arn:aws:sqs:us-east-1:000000000000:cardflow-dev-receipt-service-link-receipt-dlq',
      }),
    );
    await eventually(
      () => (deliveriesOf(eventId).length > runsBefore ? true : undefined),
      30_000,
      'the redriven run',
    );
    assert.equal(deliveriesOf(eventId).length, runsBefore + 1, 'the redriven message ran once');
  });

  it('serves the publish API from the template: POST /events publishes and the RPCs run', async () => {
    const response = await fetch(`${h.runtime.url}/api/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        event: 'card.transaction.authorized',
        idempotencyKey: randomUUID(),
        payload: exampleTransaction(9_000),
      }),
    });
    const text = await response.text();
    assert.ok(response.status >= 200 && response.status < 300, `${response.status} ${text}`);
    const published = (JSON.parse(text) as { eventId?: string }).eventId;
    assert.ok(published, text);
    await eventually(
      async () => {
        const r = await records(published);
        return Object.values(r).filter((s) => s === 'COMPLETED').length === 3 ? r : undefined;
      },
      30_000,
      'deliveries of the event published through the API',
    );
  });

  it("delivers a forged event (a wrong source) to nobody, while the real publisher's is delivered", async () => {
    const approved = (reportId: string) => ({
      reportId,
      employeeId: 'e-1',
      total: 4_200,
      currency: 'EUR',
      approvedBy: 'e-2',
    });
    // Given: the same event put on the bus by a declared publisher of other events, and by an unknown sender
    const forgedByPublisher = await publish(
      'expense.report.approved',
      approved('forged-1'),
      'event-router.cardflow.mobile-app',
    );
    const forgedByStranger = await publish('expense.report.approved', approved('forged-2'), 'payouts');
    // When: ApprovalService, its declared publisher, puts the same event after them
    const real = await publish('expense.report.approved', approved('real-1'));
    // Then: the real one reaches both subscribers; the forged ones were matched by no rule
    await eventually(
      async () => {
        const r = await records(real);
        return Object.values(r).filter((state) => state === 'COMPLETED').length === 2 ? r : undefined;
      },
      30_000,
      'deliveries of the real event',
    );
    assert.deepEqual(await records(forgedByPublisher), {});
    assert.deepEqual(await records(forgedByStranger), {});
    assert.deepEqual(
      h.deliveries.filter((d) => d.eventId === forgedByPublisher || d.eventId === forgedByStranger),
      [],
    );
  });

  it('the local publish API: a request naming no publisher acts as the declared one; 403 for what it may not publish', async () => {
    const api = `${h.runtime.url}/api/events`;
    const post = (body: unknown, publisher?: string) =>
      fetch(api, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(publisher ? { 'x-event-router-publisher': publisher } : {}),
        },
        body: JSON.stringify(body),
      });
    // A follow-up only LedgerService/RecordTransaction may publish: refused, naming it.
    const followUp = await post({
      event: 'ledger.entry.recorded',
      payload: { entryId: 'le-1', transactionId: 't-1', amount: 1, currency: 'EUR' },
    });
    assert.equal(followUp.status, 403);
    assert.match(await followUp.text(), /may only be published by LedgerService\/RecordTransaction/);
    // The mobile app may not publish a card authorization.
    const wrongPublisher = await post(
      { event: 'card.transaction.authorized', payload: exampleTransaction(100) },
      'MobileApp',
    );
    assert.equal(wrongPublisher.status, 403);
    assert.match(
      await wrongPublisher.text(),
      /Publisher MobileApp may not publish \\"card.transaction.authorized\\"; its publisher is CardNetwork/,
    );
    // The card network may, and then only it (and a request naming no publisher) reads the status.
    const key = randomUUID();
    const accepted = await post(
      { event: 'card.transaction.authorized', idempotencyKey: key, payload: exampleTransaction(100) },
      'CardNetwork',
    );
    assert.equal(accepted.status, 202);
    const { eventId } = (await accepted.json()) as { eventId: string };
    const asOther = await fetch(`${api}/${eventId}`, {
      headers: { 'x-event-router-publisher': 'MobileApp' },
    });
    assert.equal(asOther.status, 404);
    const asOwner = await fetch(`${api}/${eventId}`, {
      headers: { 'x-event-router-publisher': 'CardNetwork' },
    });
    assert.equal(asOwner.status, 200);
    // The same key with another payload: 409 naming the key.
    const conflict = await post(
      { event: 'card.transaction.authorized', idempotencyKey: key, payload: exampleTransaction(101) },
      'CardNetwork',
    );
    assert.equal(conflict.status, 409);
    assert.match(
      await conflict.text(),
      new RegExp(`idempotencyKey \\\\"${key}\\\\" was already used by CardNetwork`),
    );
  });

  it('the same key and payload twice through the API: one eventId, replayed, and one run per RPC', async () => {
    const body = JSON.stringify({
      event: 'card.transaction.authorized',
      idempotencyKey: randomUUID(),
      payload: exampleTransaction(12_000),
    });
    const send = async () => {
      const response = await fetch(`${h.runtime.url}/api/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      assert.equal(response.status, 202);
      return (await response.json()) as { eventId: string; replayed?: boolean };
    };
    const first = await send();
    await eventually(
      async () => {
        const r = await records(first.eventId);
        return Object.values(r).filter((state) => state === 'COMPLETED').length === 3 ? r : undefined;
      },
      30_000,
      'deliveries of the first publish',
    );
    const again = await send();
    assert.equal(again.eventId, first.eventId);
    assert.equal(again.replayed, true);
    // The replay reaches every RPC again and is recognized there as a duplicate: still one run each.
    await eventually(
      () =>
        deliveriesOf(first.eventId).filter((d) => d.outcome === 'duplicate').length === 3 ? true : undefined,
      30_000,
      'three duplicates of the replay',
    );
    assert.equal(deliveriesOf(first.eventId).filter((d) => d.outcome === 'ok').length, 3);
  });

  it('lists, peeks and redrives DLQs with the dlq command', async () => {
    const eventId = await publish('receipt.uploaded', {
      receiptId: 'r-2',
      transactionId: 't-2',
      objectKey: 'other/y.jpg',
    });
    const dlqUrl = `${h.runtime.url}/000000000000/cardflow-dev-receipt-service-link-receipt-dlq`;
    await eventually(
      async () => {
        const { Attributes = {} } = await h.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: dlqUrl,
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        );
        return Number(Attributes.ApproximateNumberOfMessages) >= 1 ? true : undefined;
      },
      30_000,
      'the DLQ',
    );
    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => lines.push(args.join(' '));
    try {
      const common = ['--endpoint', h.runtime.url, '--file', ROUTER];
      assert.equal(await dlq(['list', ...common]), 0);
      assert.ok(
        lines.some((l) => /^ReceiptService\/LinkReceipt\s+\d+\s+\d+\s+[1-9]/.test(l)),
        lines.join('\n'),
      );
      lines.length = 0;
      assert.equal(await dlq(['peek', 'ReceiptService/LinkReceipt', ...common]), 0);
      assert.ok(
        lines.some((l) => l.includes(eventId)),
        lines.join('\n'),
      );
      lines.length = 0;
      // The delivery log line follows the handler's return (the dead letter is sent before it).
      await eventually(
        () => (deliveriesOf(eventId).length >= 1 ? true : undefined),
        10_000,
        'the first run logged',
      );
      const runsBefore = deliveriesOf(eventId).length;
      // A filtered redrive moves the set the operator confirmed (--yes: no terminal to ask on here).
      assert.equal(
        await dlq(['redrive', 'ReceiptService/LinkReceipt', '--filter', eventId, '--yes', ...common]),
        0,
      );
      assert.ok(
        lines.some((l) => l.startsWith('Moved 1 of')),
        lines.join('\n'),
      );
      await eventually(
        () => (deliveriesOf(eventId).length > runsBefore ? true : undefined),
        30_000,
        'the redriven run',
      );
    } finally {
      console.log = log;
    }
  });
});
