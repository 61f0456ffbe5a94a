/**
 * lib/ops against the local runtime with real SDK v3 clients (the dashboard harness: each RPC's queue
 * and DLQ and the deliveries table, no workers, so nothing consumes messages behind the test's back):
 * failure groups on a DLQ with mixed failures, peek, whole-queue redrive, frozen-set redrive, edit and
 * retry, purge, and the audit trail of all of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { normaliseMessage } from '../../lib/ops/fingerprint.ts';
import { Operations, PayloadRejected } from '../../lib/ops/operations.ts';
import { type DashboardHarness, STRICT_SPEC, startDashboardHarness } from '../dashboard/harness.ts';

const CHARGE = 'BillingService/ChargeCard';
const RECEIPT = 'MailService/SendReceipt';
const TRACKING = 'MailService/SendTracking';

/** Receives everything on a queue (and leaves it hidden for a minute): what arrived there. */
async function everything(h: DashboardHarness, rpc: string, which: 'queue' | 'dlq'): Promise<Message[]> {
  const out = new Map<string, Message>();
  for (;;) {
    const { Messages = [] } = await h.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: await h.queueUrl(rpc, which),
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return [...out.values()];
    for (const m of Messages) out.set(m.MessageId ?? '', m);
  }
}

function eventIdOf(m: Message): string {
  return (JSON.parse(m.Body ?? '{}') as { event: { detail: { metadata: { eventId: string } } } }).event.detail
    .metadata.eventId;
}

describe('operations (lib/ops) on the local runtime', { timeout: 120_000 }, () => {
  let h: DashboardHarness;
  let sqs: SQSClient;
  let dynamodb: DynamoDBClient;
  let ops: Operations;

  before(async () => {
    h = await startDashboardHarness(STRICT_SPEC);
    const config = {
      endpoint: h.runtime.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    };
    sqs = new SQSClient(config);
    dynamodb = new DynamoDBClient(config);
    ops = new Operations({
      spec: STRICT_SPEC,
      sqs,
      dynamodb,
      endpoint: h.runtime.url,
      operator: 'test:alice',
    });
  });
  after(async () => {
    sqs?.destroy();
    dynamodb?.destroy();
    await h?.close();
  });

  it('normalises ids, numbers, quoted values and timestamps out of a fingerprint', () => {
    assert.equal(
      normaliseMessage('order 8812 of "bob" not found at 2026-11-25T10:00:00.123Z (ord-77a)\n    at x.ts:1'),
      normaliseMessage('order 9001 of "eve" not found at 2026-12-01T00:00:00Z (ord-12b)\n    at y.ts:9'),
    );
    assert.notEqual(normaliseMessage('order 1 not found'), normaliseMessage('order 1 refused'));
  });

  it('groups the dead letters of every DLQ by RPC, error type and fingerprint, moving nothing', async () => {
    // Given a DLQ with mixed failures: three "not found" with different ids, two timeouts, and on another
    // RPC a message no worker saw (EventBridge's own reason attributes) and one with no reason at all
    for (const [i, at] of [
      '2026-11-25T10:00:00.000Z',
      '2026-11-25T11:00:00.000Z',
      '2026-11-25T09:00:00.000Z',
    ].entries())
      await h.deadLetter(
        CHARGE,
        'order.placed',
        `ord-${i}`,
        { type: 'NotFound', message: `order ${1000 + i} not found\n    at lookup (charge.ts:12:3)` },
        { failedAt: at },
      );
    for (const id of ['ord-t1', 'ord-t2'])
      await h.deadLetter(CHARGE, 'order.placed', id, {
        type: 'Timeout',
        message: 'card issuer did not answer in 3000 ms',
      });
    await h.deadLetter(TRACKING, 'order.shipped', 'ship-9', {
      type: 'ValidationError',
      message: 'payload.carrier is missing',
    });
    const before = await h.depth(CHARGE, 'dlq');

    // When the failures are read
    const report = await ops.failureGroups();

    // Then each group has its count, its first and last failure, a sample with its stack and example events
    const byType = new Map(report.groups.map((g) => [`${g.rpc} ${g.errorType}`, g]));
    const notFound = byType.get(`${CHARGE} NotFound`);
    assert.equal(notFound?.count, 3);
    assert.equal(notFound?.firstFailedAt, '2026-11-25T09:00:00.000Z');
    assert.equal(notFound?.lastFailedAt, '2026-11-25T11:00:00.000Z');
    assert.match(notFound?.sampleError ?? '', /not found\n {4}at lookup \(charge\.ts:12:3\)/);
    assert.deepEqual([...(notFound?.eventIds ?? [])].sort(), ['ord-0', 'ord-1', 'ord-2']);
    assert.equal(notFound?.messageIds.length, 3);
    assert.equal(byType.get(`${CHARGE} Timeout`)?.count, 2);
    assert.equal(byType.get(`${TRACKING} ValidationError`)?.count, 1);
    assert.equal(report.groups[0]?.id, notFound?.id, 'largest group first');
    assert.ok(report.rpcs.every((r) => r.complete));
    // And nothing moved or stays hidden: the DLQ shows the same messages, all visible
    assert.deepEqual(await h.depth(CHARGE, 'dlq'), before);
    assert.deepEqual(await h.depth(CHARGE, 'queue'), { visible: 0, inFlight: 0 });
    // And a second reading gives the same group ids
    const again = await ops.failureGroups({ rpcs: [CHARGE] });
    assert.deepEqual(
      again.groups.map((g) => g.id).sort(),
      report.groups
        .filter((g) => g.rpc === CHARGE)
        .map((g) => g.id)
        .sort(),
    );
  });

  it('peeks each message once, however many are asked for, and leaves them visible', async () => {
    const letters = await ops.peek(CHARGE, 100);
    assert.equal(letters.length, 5);
    assert.equal(new Set(letters.map((d) => d.messageId)).size, 5);
    assert.deepEqual(await h.depth(CHARGE, 'dlq'), { visible: 5, inFlight: 0 });
  });

  it('redrives a frozen group: a message arriving mid-run is not swept in, none moves twice', async () => {
    // Given the NotFound group read now
    const group = (await ops.failureGroups({ rpcs: [CHARGE] })).groups.find(
      (g) => g.errorType === 'NotFound',
    );
    assert.ok(group);
    let arrived = false;
    // When it is redriven at 2 messages/s while reads hide messages only 1 s (a DLQ that takes longer to
    // drain than the visibility timeout), and a message of the same group arrives after the first batch
    const progress: number[] = [];
    const report = await ops.redriveSet(CHARGE, group.messageIds, {
      rate: 2,
      hideSeconds: 1,
      what: `group ${group.id}`,
      onProgress: (p) => {
        progress.push(p.moved);
        if (p.moved > 0 && !arrived) {
          arrived = true;
          void h.deadLetter(CHARGE, 'order.placed', 'ord-late', {
            type: 'NotFound',
            message: 'order 4242 not found',
          });
        }
      },
    });
    // Then exactly the three frozen messages moved, each once, with their attributes
    assert.equal(report.moved.length, 3);
    assert.deepEqual(report.notFound, []);
    assert.equal(progress.at(-1), 3);
    const queued = await everything(h, CHARGE, 'queue');
    assert.deepEqual(queued.map(eventIdOf).sort(), ['ord-0', 'ord-1', 'ord-2']);
    assert.ok(queued.every((m) => m.MessageAttributes?.ErrorType?.StringValue === 'NotFound'));
    // And the late arrival and the other group stay in the DLQ
    const left = (await ops.peek(CHARGE, 100)).map((d) => d.eventId).sort();
    assert.deepEqual(left, ['ord-late', 'ord-t1', 'ord-t2']);
  });

  it('redrives a whole DLQ with a message move task and reports that task, not an older one', async () => {
    // Given a first redrive that moved three messages
    const first = await ops.startRedrive(CHARGE);
    const firstEnd = await ops.followMoveTask(CHARGE, first.taskHandle, undefined, 50);
    assert.equal(firstEnd.status, 'COMPLETED');
    assert.equal(firstEnd.moved, 3);
    assert.deepEqual(await h.depth(CHARGE, 'dlq'), { visible: 0, inFlight: 0 });
    // When two new dead letters are redriven
    for (const id of ['ord-x', 'ord-y'])
      await h.deadLetter(CHARGE, 'order.placed', id, { type: 'Boom', message: 'boom' });
    const second = await ops.startRedrive(CHARGE);
    const end = await ops.followMoveTask(CHARGE, second.taskHandle, undefined, 50);
    // Then the status is the second task's: two moved
    assert.equal(end.status, 'COMPLETED');
    assert.equal(end.moved, 2);
    assert.notEqual(end.startedAt, firstEnd.startedAt);
    assert.deepEqual(await h.depth(CHARGE, 'dlq'), { visible: 0, inFlight: 0 });
  });

  it('edits and retries: an invalid payload is refused with each violation, a valid one is sent once', async () => {
    // Given a dead letter of order.placed and its delivery record
    await h.deadLetter(
      RECEIPT,
      'order.placed',
      'ord-edit',
      { type: 'ValidationError', message: 'payload.email is missing' },
      {
        payload: { orderId: 'o-1' },
        attributes: { DeadLetterId: 'dl-1234' },
      },
    );
    await h.putDelivery({ eventId: 'ord-edit', rpc: RECEIPT, status: 'DEAD', updatedAt: Date.now() });
    const [letter] = await ops.peek(RECEIPT, 10);
    assert.ok(letter);
    // When the edit breaks the schema
    await assert.rejects(
      ops.edit(RECEIPT, letter.messageId, { orderId: 5, email: 'nope' }),
      (error: unknown) => {
        assert.ok(error instanceof PayloadRejected);
        assert.deepEqual(error.violations.map((v) => v.pointer).sort(), ['/email', '/orderId']);
        return true;
      },
    );
    // Then nothing was sent and the original is still in the DLQ, visible
    assert.deepEqual(await h.depth(RECEIPT, 'queue'), { visible: 0, inFlight: 0 });
    assert.deepEqual(await h.depth(RECEIPT, 'dlq'), { visible: 1, inFlight: 0 });
    // When a valid edit is sent
    const result = await ops.edit(RECEIPT, letter.messageId, { orderId: 'o-1', email: 'a@example.com' });
    // Then the queue has the edited copy naming the original, the operator, a RerunId and the DeadLetterId
    const [copy, ...more] = await everything(h, RECEIPT, 'queue');
    assert.equal(more.length, 0);
    const body = JSON.parse(copy?.Body ?? '{}') as {
      rpc: string;
      event: { detail: { payload: unknown; metadata: { eventId: string } } };
    };
    assert.deepEqual(body.event.detail.payload, { orderId: 'o-1', email: 'a@example.com' });
    assert.equal(body.event.detail.metadata.eventId, 'ord-edit');
    const attr = (name: string) => copy?.MessageAttributes?.[name]?.StringValue;
    assert.equal(attr('EditedFrom'), letter.messageId);
    assert.equal(attr('EditedBy'), 'test:alice');
    assert.equal(attr('RerunId'), result.rerunId);
    assert.equal(attr('DeadLetterId'), 'dl-1234');
    assert.equal(attr('ErrorType'), 'ValidationError');
    // And the original left the DLQ, and the delivery record notes the edit
    assert.deepEqual(await h.depth(RECEIPT, 'dlq'), { visible: 0, inFlight: 0 });
    const { Item } = await h.doc.send(
      new GetCommand({ TableName: ops.deliveriesTable, Key: { eventId: 'ord-edit', rpc: RECEIPT } }),
    );
    assert.equal((Item?.lastEdit as { by?: string })?.by, 'test:alice');
    assert.equal(Item?.status, 'DEAD', 'the edit notes, it does not change the state');
    // And editing the same message again finds nothing to send twice
    await assert.rejects(
      ops.edit(RECEIPT, letter.messageId, { orderId: 'o-1', email: 'a@example.com' }),
      /No message/,
    );
  });

  it('purges a DLQ and reports how many messages went', async () => {
    for (const id of ['p-1', 'p-2', 'p-3'])
      await h.deadLetter(TRACKING, 'order.shipped', id, { type: 'X', message: 'x' });
    const result = await ops.purge(TRACKING);
    assert.equal(result.count, 4, 'three new and ship-9');
    assert.deepEqual(await h.depth(TRACKING, 'dlq'), { visible: 0, inFlight: 0 });
  });

  it('records who did what in the audit trail, newest first', async () => {
    const entries = await ops.auditTrail(20);
    assert.deepEqual(
      entries.map((e) => `${e.action} ${e.rpc} ${e.count} ${e.outcome}`),
      [
        `purge ${TRACKING} 4 ok`,
        `edit ${RECEIPT} 1 ok`,
        `redrive ${CHARGE} 2 ok`,
        `redrive ${CHARGE} 3 ok`,
        `redrive-set ${CHARGE} 3 ok`,
      ],
    );
    assert.ok(entries.every((e) => e.who === 'test:alice' && /^\d{4}-\d{2}-\d{2}T/.test(e.at)));
    // And audit items are not delivery records: the dashboard's deliveries list ignores them
    const recent = await h.getJson<{ items: Array<{ eventId: string }> }>('/_dashboard/api/deliveries');
    assert.ok(recent.body.items.every((d) => d.eventId !== 'ops#audit'));
  });
});
