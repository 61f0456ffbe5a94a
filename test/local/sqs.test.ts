/**
 * The SQS API of the local runtime through real AWS SDK v3 clients: queue lookup, send/receive with
 * MD5 checks, visibility, receive counts, redrive to the DLQ, move tasks and the exception classes.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  AddPermissionCommand,
  BatchEntryIdsNotDistinct,
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  EmptyBatchRequest,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  ResourceNotFoundException,
  SendMessageBatchCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
  TooManyEntriesInBatchRequest,
} from '@aws-sdk/client-sqs';
import { ManualClock } from '../support/clock.ts';
import { eventually, type Harness, startHarness } from './helpers.ts';

let h: Harness;
let n = 0;
/** The runtime's time moves only when a test moves it. */
const clock = new ManualClock();

/** A fresh queue (and its DLQ with maxReceiveCount 2) per test. */
async function queuePair(): Promise<{ url: string; arn: string; dlqUrl: string; dlqArn: string }> {
  n++;
  const dlq = await h.sqs.send(new CreateQueueCommand({ QueueName: `t${n}-dlq` }));
  const dlqArn = `arn:aws:sqs:us-east-1:000000000000:t${n}-dlq`;
  const q = await h.sqs.send(
    new CreateQueueCommand({
      QueueName: `t${n}`,
      Attributes: {
        VisibilityTimeout: '30',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
      },
    }),
  );
  return {
    url: q.QueueUrl as string,
    arn: `arn:aws:sqs:us-east-1:000000000000:t${n}`,
    dlqUrl: dlq.QueueUrl as string,
    dlqArn,
  };
}

async function attributes(url: string): Promise<Record<string, string>> {
  const out = await h.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  return out.Attributes ?? {};
}

describe('SQS API', () => {
  before(async () => {
    h = await startHarness({ clock });
  });
  after(async () => {
    await h.close();
  });

  it('finds template queues by name and lists them, with URLs on the runtime port', async () => {
    const { QueueUrl } = await h.sqs.send(new GetQueueUrlCommand({ QueueName: 'test-dev-svc-work' }));
    assert.equal(QueueUrl, `${h.runtime.url}/000000000000/test-dev-svc-work`);
    const { QueueUrls = [] } = await h.sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'test-dev-svc-' }));
    assert.deepEqual(QueueUrls.map((u) => u.split('/').pop()).sort(), [
      'test-dev-svc-other',
      'test-dev-svc-other-dlq',
      'test-dev-svc-work',
      'test-dev-svc-work-dlq',
    ]);
    const attrs = await attributes(QueueUrl as string);
    assert.equal(attrs.VisibilityTimeout, '18');
    assert.equal(attrs.QueueArn, 'arn:aws:sqs:us-east-1:000000000000:test-dev-svc-work');
    assert.deepEqual(JSON.parse(attrs.RedrivePolicy ?? '{}'), {
      deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:test-dev-svc-work-dlq',
      maxReceiveCount: 3,
    });
    assert.equal(attrs.SqsManagedSseEnabled, 'true');
  });

  it('raises QueueDoesNotExist for an unknown queue', async () => {
    await assert.rejects(h.sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' })), QueueDoesNotExist);
    await assert.rejects(
      h.sqs.send(
        new SendMessageCommand({ QueueUrl: `${h.runtime.url}/000000000000/nope`, MessageBody: 'x' }),
      ),
      (error: unknown) => {
        assert.ok(error instanceof QueueDoesNotExist);
        assert.equal((error as unknown as { Code?: string }).Code, 'AWS.SimpleQueueService.NonExistentQueue');
        return true;
      },
    );
  });

  it('sends and receives with attributes; the SDK verifies the MD5 digests', async () => {
    const { url } = await queuePair();
    const sent = await h.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'héllo {"x":1}',
        MessageAttributes: {
          Kind: { DataType: 'String', StringValue: 'greeting' },
          Count: { DataType: 'Number', StringValue: '3' },
          Blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
        },
      }),
    );
    assert.ok(sent.MessageId);
    assert.equal(sent.MD5OfMessageBody, createHash('md5').update('héllo {"x":1}').digest('hex'));
    const { Messages = [] } = await h.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    assert.equal(Messages.length, 1);
    const m = Messages[0];
    assert.equal(m?.Body, 'héllo {"x":1}');
    assert.equal(m?.MessageId, sent.MessageId);
    assert.equal(m?.MessageAttributes?.Kind?.StringValue, 'greeting');
    assert.deepEqual([...(m?.MessageAttributes?.Blob?.BinaryValue ?? [])], [1, 2, 3]);
    assert.equal(m?.Attributes?.ApproximateReceiveCount, '1');
    assert.ok(Number(m?.Attributes?.SentTimestamp) > 0);
    assert.ok(
      Number(m?.Attributes?.ApproximateFirstReceiveTimestamp) >= Number(m?.Attributes?.SentTimestamp),
    );
  });

  it('hides a received message until its visibility timeout ends or is changed', async () => {
    const { url } = await queuePair();
    await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a' }));
    const first = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 60 }));
    assert.equal(first.Messages?.length, 1);
    const again = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    assert.equal(again.Messages, undefined);
    let attrs = await attributes(url);
    assert.equal(attrs.ApproximateNumberOfMessages, '0');
    assert.equal(attrs.ApproximateNumberOfMessagesNotVisible, '1');
    await h.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: first.Messages?.[0]?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    attrs = await attributes(url);
    assert.equal(attrs.ApproximateNumberOfMessages, '1');
    const second = await h.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );
    assert.equal(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount, '2');
    // A receipt handle from the earlier receive no longer deletes the message.
    await h.sqs.send(
      new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first.Messages?.[0]?.ReceiptHandle }),
    );
    assert.equal((await attributes(url)).ApproximateNumberOfMessagesNotVisible, '1');
    await h.sqs.send(
      new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: second.Messages?.[0]?.ReceiptHandle }),
    );
    assert.equal((await attributes(url)).ApproximateNumberOfMessagesNotVisible, '0');
  });

  it('makes a message visible again after a short visibility timeout', async () => {
    const { url } = await queuePair();
    await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'v' }));
    await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 1 }));
    await clock.advance(1_000);
    const back = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    assert.equal(back.Messages?.[0]?.Body, 'v');
  });

  it('long polling returns as soon as a message arrives', async () => {
    const { url } = await queuePair();
    const receiving = h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }));
    // The poll is waiting once its 20 s are on the clock, which does not move: only a message ends it.
    await clock.scheduled(clock.now() + 20_000);
    await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'late' }));
    const got = await receiving;
    assert.equal(got.Messages?.[0]?.Body, 'late');
  });

  it('rejects a malformed receipt handle with ReceiptHandleIsInvalid', async () => {
    const { url } = await queuePair();
    await assert.rejects(
      h.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'garbage' })),
      ReceiptHandleIsInvalid,
    );
  });

  it('sends and deletes in batches, validating the batch as SQS does', async () => {
    const { url } = await queuePair();
    const entries = Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `body ${i}` }));
    const sent = await h.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
    assert.equal(sent.Successful?.length, 10);
    await assert.rejects(
      h.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: [...entries, { Id: 'm10', MessageBody: 'x' }],
        }),
      ),
      TooManyEntriesInBatchRequest,
    );
    await assert.rejects(
      h.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [entries[0], entries[0]] as never })),
      BatchEntryIdsNotDistinct,
    );
    await assert.rejects(
      h.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [] })),
      EmptyBatchRequest,
    );
    const { Messages = [] } = await h.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }),
    );
    assert.equal(Messages.length, 10);
    const deleted = await h.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    assert.equal(deleted.Successful?.length, 10);
    assert.equal((await attributes(url)).ApproximateNumberOfMessagesNotVisible, '0');
  });

  it('moves a message to its DLQ on the receive after maxReceiveCount, then redrives it with a move task', async () => {
    const { url, arn, dlqUrl, dlqArn } = await queuePair();
    await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
    for (let i = 0; i < 2; i++) {
      const got = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 0 }));
      assert.equal(got.Messages?.length, 1, `receive ${i + 1}`);
    }
    const third = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    assert.equal(third.Messages, undefined);
    assert.equal((await attributes(dlqUrl)).ApproximateNumberOfMessages, '1');
    const { TaskHandle } = await h.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
    assert.ok(TaskHandle);
    const task = await eventually(async () => {
      const { Results = [] } = await h.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
      return Results[0]?.Status === 'COMPLETED' ? Results[0] : undefined;
    });
    assert.equal(task.ApproximateNumberOfMessagesMoved, 1);
    const back = await h.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );
    assert.equal(back.Messages?.[0]?.Body, 'poison');
    assert.equal(back.Messages?.[0]?.Attributes?.ApproximateReceiveCount, '1');
    assert.equal(arn.endsWith(`:t${n}`), true);
  });

  it('allows one move task per source queue and cancels a running one', async () => {
    const { dlqUrl, dlqArn } = await queuePair();
    await h.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `b${i}` })),
      }),
    );
    const other = await queuePair();
    const { TaskHandle } = await h.sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: dlqArn,
        DestinationArn: other.arn,
        MaxNumberOfMessagesPerSecond: 1,
      }),
    );
    await assert.rejects(
      h.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn, DestinationArn: other.arn })),
      (e: Error & { Code?: string }) =>
        e.Code === 'InvalidParameterValue' && /already a task running/.test(e.message),
    );
    const cancelled = await h.sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle }));
    assert.ok((cancelled.ApproximateNumberOfMessagesMoved ?? 0) < 10);
    const { Results = [] } = await h.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
    assert.equal(Results[0]?.Status, 'CANCELLED');
    await assert.rejects(
      h.sqs.send(
        new StartMessageMoveTaskCommand({ SourceArn: 'arn:aws:sqs:us-east-1:000000000000:missing' }),
      ),
      ResourceNotFoundException,
    );
  });

  it('purges a queue', async () => {
    const { url } = await queuePair();
    await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    await h.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    assert.equal((await attributes(url)).ApproximateNumberOfMessages, '0');
  });

  it('counts delayed messages apart', async () => {
    const { url } = await queuePair();
    await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'later', DelaySeconds: 60 }));
    const attrs = await attributes(url);
    assert.equal(attrs.ApproximateNumberOfMessagesDelayed, '1');
    assert.equal(attrs.ApproximateNumberOfMessages, '0');
  });

  it('serves a FIFO queue in order per message group, one receive of a group at a time, and deduplicates', async () => {
    // Given a FIFO queue with two groups
    const { QueueUrl: url } = await h.sqs.send(
      new CreateQueueCommand({
        QueueName: 'ordered.fifo',
        Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' },
      }),
    );
    const send = (body: string, group: string) =>
      h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageGroupId: group }));
    const first = await send('a1', 'a');
    await send('b1', 'b');
    await send('a2', 'a');
    // When the same body is sent again within five minutes, it is the same message
    const again = await send('a1', 'a');
    assert.equal(again.MessageId, first.MessageId);
    assert.match(first.SequenceNumber ?? '', /^\d{20}$/);
    // Then one receive takes each group in order...
    const one = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    assert.deepEqual(
      one.Messages?.map((m) => m.Body),
      ['a1', 'b1', 'a2'],
    );
    // ...and while a group is in flight, none of its messages is served
    await h.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: one.Messages?.[2]?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const held = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    assert.equal(held.Messages, undefined, 'a1 of group a is still in flight');
    for (const m of one.Messages?.slice(0, 2) ?? [])
      await h.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    const next = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    assert.deepEqual(
      next.Messages?.map((m) => m.Body),
      ['a2'],
    );
  });

  it('says it does not emulate queue permissions rather than pretend to apply them', async () => {
    const { url } = await queuePair();
    await assert.rejects(
      h.sqs.send(
        new AddPermissionCommand({
          QueueUrl: url,
          Label: 'l',
          AWSAccountIds: ['111122223333'],
          Actions: ['SendMessage'],
        }),
      ),
      (e: Error) => e.name === 'UnsupportedOperation' && /does not emulate AddPermission/.test(e.message),
    );
  });
});
