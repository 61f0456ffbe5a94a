/**
 * The runtime on a clock the test moves (test/support/clock.ts): visibility timeouts, delays, long
 * polls, retention and move-task rates end when the clock says, not when the machine gets to them.
 * Each case checks the moment just before (nothing happened) and the moment it is due (it happened).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { ManualClock } from '../support/clock.ts';
import { type Harness, startHarness } from './helpers.ts';

describe('the runtime on an injected clock', () => {
  const clock = new ManualClock();
  let h: Harness;
  let n = 0;
  before(async () => {
    h = await startHarness({ clock });
  });
  after(async () => {
    await h.close();
  });

  async function queue(attributes: Record<string, string> = {}): Promise<string> {
    n += 1;
    const { QueueUrl } = await h.sqs.send(
      new CreateQueueCommand({ QueueName: `clock-${n}`, Attributes: attributes }),
    );
    assert.ok(QueueUrl);
    return QueueUrl;
  }

  async function receive(url: string, visibility?: number): Promise<string[]> {
    const { Messages = [] } = await h.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: visibility }),
    );
    return Messages.map((m) => m.Body ?? '');
  }

  async function depth(url: string): Promise<Record<string, string>> {
    const { Attributes = {} } = await h.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
    );
    return Attributes;
  }

  it('keeps a received message invisible until its visibility timeout ends', async () => {
    const url = await queue();
    await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'v' }));
    assert.deepEqual(await receive(url, 30), ['v']);
    await clock.advance(29_999);
    assert.deepEqual(await receive(url), [], 'still in flight 1 ms before its timeout');
    assert.equal((await depth(url)).ApproximateNumberOfMessagesNotVisible, '1');
    await clock.advance(1);
    assert.deepEqual(await receive(url), ['v'], 'visible again when it ends');
  });

  it('holds a delayed message back until its delay ends', async () => {
    const url = await queue();
    await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'd', DelaySeconds: 5 }));
    await clock.advance(4_999);
    assert.deepEqual(await receive(url), []);
    assert.equal((await depth(url)).ApproximateNumberOfMessagesDelayed, '1');
    await clock.advance(1);
    assert.deepEqual(await receive(url), ['d']);
  });

  it('ends a long poll when its wait time has passed on the clock, and not before', async () => {
    const url = await queue();
    let answered = false;
    const polling = h.sqs
      .send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }))
      .finally(() => {
        answered = true;
      });
    // The poll is waiting once its timer is on the clock.
    await clock.scheduled(clock.now() + 20_000);
    await clock.advance(19_000);
    assert.equal(answered, false, 'still waiting after 19 s');
    await clock.advance(1_000);
    const { Messages } = await polling;
    assert.equal(Messages, undefined, 'answered empty after 20 s');
  });

  it('drops a message once it is older than the retention period', async () => {
    const url = await queue({ MessageRetentionPeriod: '60' });
    await h.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'old' }));
    await clock.advance(60_000);
    assert.equal((await depth(url)).ApproximateNumberOfMessages, '1', 'kept for its 60 s');
    await clock.advance(1);
    assert.deepEqual(await receive(url), [], 'gone after them');
  });

  it('moves messages back from a DLQ at the rate the move task was given', async () => {
    const dlq = await queue();
    const { Attributes: { QueueArn: dlqArn = '' } = {} } = await h.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }),
    );
    const source = await queue({
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
    });
    await h.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: dlq,
        Entries: ['a', 'b', 'c'].map((body) => ({ Id: body, MessageBody: body })),
      }),
    );
    await h.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn, MaxNumberOfMessagesPerSecond: 1 }));
    // The first message moves at once (on the next turn of the loop), then at most one a second.
    await clock.advance(0);
    assert.equal((await depth(source)).ApproximateNumberOfMessages, '1');
    await clock.advance(999);
    assert.equal((await depth(source)).ApproximateNumberOfMessages, '1', 'not before a second has passed');
    await clock.advance(101);
    assert.equal((await depth(source)).ApproximateNumberOfMessages, '2');
    await clock.advance(999);
    assert.equal((await depth(source)).ApproximateNumberOfMessages, '2', 'not before another second');
    await clock.advance(101);
    assert.equal((await depth(source)).ApproximateNumberOfMessages, '3');
    await clock.advance(100);
    const { Results = [] } = await h.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
    assert.equal(Results[0]?.Status, 'COMPLETED');
    assert.equal(Results[0]?.ApproximateNumberOfMessagesMoved, 3);
  });
});
