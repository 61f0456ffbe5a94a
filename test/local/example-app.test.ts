/**
 * The example router (event-router.yaml) synthesized by the real CDK app and run by the runtime:
 * what would deploy is what runs. Synthesizes into a temporary directory, then publishes with the
 * SDK and follows each delivery through the runtime's delivery log and the deliveries table.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import { synthesize } from '../../lib/local/synth.ts';
import { exampleTransaction } from '../support/example-payloads.ts';
import { eventually, type Harness, startHarness } from './helpers.ts';

const ROUTER = join(import.meta.dirname ?? '.', '..', '..', 'event-router.yaml');
const BUS = 'cardflow-dev-bus';
const TABLE = 'cardflow-dev-deliveries';

let h: Harness;
const outDir = mkdtempSync(join(tmpdir(), 'er-example-'));

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

async function publish(name: string, payload: unknown): Promise<string> {
  const eventId = randomUUID();
  const out = await h.events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: BUS,
          Source: 'event-router.test',
          DetailType: name,
          Detail: envelope(eventId, payload),
        },
      ],
    }),
  );
  assert.equal(out.FailedEntryCount, 0, JSON.stringify(out.Entries));
  return eventId;
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
    const code = await synthesize(ROUTER, outDir, { echo: false });
    assert.equal(code, 0, 'event-router synth succeeded');
    h = await startHarness({ cdkOut: outDir, retryDelaySeconds: 0 });
  });
  after(async () => {
    await h?.close();
    rmSync(outDir, { recursive: true, force: true });
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
    // Give a stray delivery the chance to show up before asserting it did not.
    await new Promise((r) => setTimeout(r, 500));
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
