/** Queue semantics without HTTP: retention, delays, redrive on receive, and what a moved message keeps. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_QUEUE_CONFIG } from '../../lib/local/services/sqs/queue.ts';
import { QueueStore } from '../../lib/local/services/sqs/store.ts';

function store(): QueueStore {
  return new QueueStore({ region: 'us-east-1', account: '000000000000', baseUrl: () => 'http://local' });
}

describe('queue semantics', () => {
  it('drops messages older than the retention period', () => {
    const s = store();
    const q = s.define({ ...DEFAULT_QUEUE_CONFIG, name: 'q', messageRetentionPeriod: 60 });
    const now = Date.now();
    q.send({ body: 'old' }, now);
    q.send({ body: 'new' }, now + 30_000);
    const got = q.receive(10, 30, now + 61_000);
    assert.deepEqual(
      got.map((m) => m.body),
      ['new'],
    );
    assert.equal(q.messages.size, 1);
    s.close();
  });

  it('keeps a delayed message invisible until its delay ends', () => {
    const s = store();
    const q = s.define({ ...DEFAULT_QUEUE_CONFIG, name: 'q' });
    const now = Date.now();
    q.send({ body: 'later', delaySeconds: 5 }, now);
    assert.equal(q.receive(10, 30, now + 1000).length, 0);
    assert.equal(q.receive(10, 30, now + 5001).length, 1);
    s.close();
  });

  it('moves a message to the DLQ on the receive after maxReceiveCount, keeping its id, body, age and receive count', () => {
    const s = store();
    const dlq = s.define({ ...DEFAULT_QUEUE_CONFIG, name: 'q-dlq' });
    const q = s.define({
      ...DEFAULT_QUEUE_CONFIG,
      name: 'q',
      redrivePolicy: { deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 },
    });
    const moved: string[] = [];
    s.onDeadLetter((m, from, to) => moved.push(`${m.id}:${from.name}->${to.name}`));
    const now = Date.now();
    const { message } = q.send({ body: 'poison' }, now);
    assert.equal(q.receive(1, 0, now + 1).length, 1);
    assert.equal(q.receive(1, 0, now + 2).length, 1);
    assert.equal(q.receive(1, 0, now + 3).length, 0);
    assert.deepEqual(moved, [`${message.id}:q->q-dlq`]);
    const [dead] = dlq.receive(1, 30, now + 4);
    assert.equal(dead?.id, message.id);
    assert.equal(dead?.body, 'poison');
    assert.equal(dead?.sentAt, now);
    // SQS keeps counting receives in the DLQ (recorded: ApproximateReceiveCount 2 after one receive
    // from a source with maxReceiveCount 1 and one from its DLQ).
    assert.equal(dead?.receiveCount, 3);
    assert.equal(dead?.deadLetterSourceArn, q.arn);
    s.close();
  });

  it('lets only the latest receipt handle delete or change a message', () => {
    const s = store();
    const q = s.define({ ...DEFAULT_QUEUE_CONFIG, name: 'q' });
    const now = Date.now();
    q.send({ body: 'x' }, now);
    const [first] = q.receive(1, 0, now + 1);
    assert.ok(first);
    const oldHandle = q.receiptHandle(first);
    const [second] = q.receive(1, 30, now + 2);
    assert.ok(second);
    assert.equal(q.deleteByReceipt(oldHandle), false);
    assert.throws(() => q.changeVisibility(oldHandle, 0), /expired/);
    assert.equal(q.deleteByReceipt(q.receiptHandle(second)), true);
    s.close();
  });
});
