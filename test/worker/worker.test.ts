/**
 * The worker pipeline against dynalite: dedup, claims, crashes, retries, partial batch responses.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { CardTransactionAuthorized } from '../../generated/events.ts';
import { defineRpc, NonRetryableError, type RpcContext } from '../../generated/rpc.ts';
import { gate } from './support/fakes.ts';
import { authorizedPayload, type Harness, QUEUE_URL, startHarness } from './support/harness.ts';
import {
  busEvent,
  lambdaContext,
  queueMessage,
  type RecordOptions,
  sqsEvent,
  sqsRecord,
} from './support/messages.ts';

const RPC = 'LedgerService/RecordTransaction';
const EVENT = 'card.transaction.authorized';

type Behaviour = (payload: CardTransactionAuthorized, ctx: RpcContext<typeof EVENT>) => Promise<unknown>;

/** Runs of the handler per eventId: the side effect whose count the tests check. */
const runs = new Map<string, number>();
let behaviour: Behaviour = async () => ({ ok: true });

const handler = defineRpc(EVENT, async (payload, ctx) => {
  runs.set(ctx.eventId, (runs.get(ctx.eventId) ?? 0) + 1);
  return behaviour(payload, ctx);
});

function message(eventId: string, options: RecordOptions = {}) {
  return sqsRecord(queueMessage(RPC, busEvent(EVENT, authorizedPayload(eventId), { eventId })), options);
}

describe('worker', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(RPC);
  });
  after(async () => {
    await h.close();
  });

  it('runs a first delivery once and records COMPLETED with its result', async () => {
    behaviour = async (payload) => ({ entryId: `le-${payload.transactionId}` });
    const eventId = randomUUID();
    const worker = h.wire(handler);

    const response = await worker(sqsEvent([message(eventId)]), lambdaContext(30_000));

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(runs.get(eventId), 1);
    const record = await h.record(eventId);
    assert.equal(record?.status, 'COMPLETED');
    assert.equal(record?.attempts, 1);
    assert.equal(record?.eventName, EVENT);
    assert.equal(record?.correlationId, `corr-${eventId}`);
    assert.equal(record?.causationId, undefined);
    assert.equal(record?.result, JSON.stringify({ entryId: `le-${eventId}` }));
    assert.equal(record?.completedAt, h.clock.now());
    assert.equal(record?.firstAttemptAt, h.clock.now());
    assert.equal(record?.lockExpiresAt, undefined);
    assert.equal(record?.expiresAt, Math.floor(h.clock.now() / 1000) + h.config.recordRetentionSeconds);
  });

  it("stores the event's correlationId and causationId on the delivery record", async () => {
    behaviour = async () => 'caused';
    const eventId = randomUUID();
    const worker = h.wire(handler);
    const event = busEvent(EVENT, authorizedPayload(eventId), {
      eventId,
      correlationId: 'corr-chain-7',
      causationId: 'parent-event-7',
    });

    const response = await worker(sqsEvent([sqsRecord(queueMessage(RPC, event))]), lambdaContext());

    assert.deepEqual(response, { batchItemFailures: [] });
    const record = await h.record(eventId);
    assert.equal(record?.status, 'COMPLETED');
    assert.equal(record?.correlationId, 'corr-chain-7');
    assert.equal(record?.causationId, 'parent-event-7');
  });

  it('acknowledges a duplicate of a completed delivery without running it', async () => {
    behaviour = async () => 'done';
    const eventId = randomUUID();
    const worker = h.wire(handler);
    await worker(sqsEvent([message(eventId)]), lambdaContext());

    // When the same delivery arrives again in another message (SQS/EventBridge at-least-once)
    const response = await worker(sqsEvent([message(eventId)]), lambdaContext());

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(runs.get(eventId), 1);
    assert.equal((await h.record(eventId))?.attempts, 1);
  });

  it('spends one write to claim and one to complete; a duplicate costs one failed write (+1 read on dynalite)', async () => {
    behaviour = async () => 'counted';
    const eventId = randomUUID();
    const worker = h.wire(handler);

    const before = h.dynamo.requests();
    await worker(sqsEvent([message(eventId)]), lambdaContext());
    const first = h.dynamo.requests() - before;
    await worker(sqsEvent([message(eventId)]), lambdaContext());
    const duplicate = h.dynamo.requests() - before - first;

    assert.equal(first, 2);
    // DynamoDB returns the item with the failed condition (ReturnValuesOnConditionCheckFailure), so
    // a duplicate is one request there; dynalite does not implement it, so one consistent read follows.
    assert.equal(duplicate, 2);
  });

  it('runs exactly one of two workers holding the same delivery; the other retries later', async () => {
    const eventId = randomUUID();
    const release = gate();
    const started = gate();
    behaviour = async () => {
      started.open();
      await release.wait;
      return 'first';
    };
    const workerA = h.wire(handler);
    const workerB = h.wire(handler);

    // Given worker A is inside the handler
    const first = workerA(sqsEvent([message(eventId, { messageId: 'a' })]), lambdaContext(30_000));
    await started.wait;
    // When worker B receives the same delivery
    const second = await workerB(sqsEvent([message(eventId, { messageId: 'b' })]), lambdaContext(30_000));
    release.open();
    const firstResponse = await first;

    // Then B ran nothing and returns its message to the queue until A's claim would expire
    assert.deepEqual(second, { batchItemFailures: [{ itemIdentifier: 'b' }] });
    assert.deepEqual(firstResponse, { batchItemFailures: [] });
    assert.equal(runs.get(eventId), 1);
    const delay = h.queue.visibility.find((input) => input.ReceiptHandle === 'receipt-b-1');
    assert.equal(delay?.QueueUrl, QUEUE_URL);
    assert.equal(delay?.VisibilityTimeout, 30);
    assert.equal((await h.record(eventId))?.status, 'COMPLETED');
  });

  it('runs a delivery once when two workers race on it at the same instant', async () => {
    behaviour = async () => 'raced';
    const eventId = randomUUID();
    const responses = await Promise.all([
      h.wire(handler)(sqsEvent([message(eventId, { messageId: 'x' })]), lambdaContext()),
      h.wire(handler)(sqsEvent([message(eventId, { messageId: 'y' })]), lambdaContext()),
    ]);

    assert.equal(runs.get(eventId), 1);
    const failures = responses.flatMap((response) => response.batchItemFailures);
    // The loser either saw the live claim (retry later) or the completed record (acknowledged).
    assert.ok(failures.length <= 1);
    assert.equal((await h.record(eventId))?.status, 'COMPLETED');
  });

  it('takes over a delivery whose worker crashed mid-handler once the claim has expired', async () => {
    const eventId = randomUUID();
    const crashed = gate();
    const never = gate();
    behaviour = async () => {
      crashed.open();
      await never.wait; // worker A's invocation dies here: it never records anything
      return 'late';
    };
    // Given worker A claimed with 10 s left in its invocation and then died
    const workerA = h.wire(handler);
    const abandoned = workerA(sqsEvent([message(eventId, { messageId: 'crash' })]), lambdaContext(10_000));
    await crashed.wait;
    assert.equal((await h.record(eventId))?.status, 'IN_PROGRESS');

    // When the message reappears before the claim expired, it is not run
    behaviour = async () => 'recovered';
    const early = await h.wire(handler)(
      sqsEvent([message(eventId, { messageId: 'crash', receiveCount: 2 })]),
      lambdaContext(),
    );
    assert.deepEqual(early, { batchItemFailures: [{ itemIdentifier: 'crash' }] });
    assert.equal(runs.get(eventId), 1);

    // When it reappears after the claim expired, another worker runs it to completion
    h.clock.advance(10_001);
    const late = await h.wire(handler)(
      sqsEvent([message(eventId, { messageId: 'crash', receiveCount: 3 })]),
      lambdaContext(),
    );
    assert.deepEqual(late, { batchItemFailures: [] });
    assert.equal(runs.get(eventId), 2);
    const record = await h.record(eventId);
    assert.equal(record?.status, 'COMPLETED');
    assert.equal(record?.attempts, 2);
    assert.equal(record?.result, '"recovered"');

    // And if the crashed worker's handler does return after all, it cannot overwrite the outcome
    never.open();
    const zombie = await abandoned;
    assert.deepEqual(zombie, { batchItemFailures: [{ itemIdentifier: 'crash' }] });
    assert.equal((await h.record(eventId))?.result, '"recovered"');
  });

  it('records a retryable failure with backoff, then completes on the retry', async () => {
    const eventId = randomUUID();
    behaviour = async () => {
      throw Object.assign(new Error('ledger database unavailable'), { name: 'LedgerUnavailable' });
    };
    const worker = h.wire(handler);

    const failed = await worker(
      sqsEvent([message(eventId, { messageId: 'f', receiveCount: 2 })]),
      lambdaContext(),
    );

    assert.deepEqual(failed, { batchItemFailures: [{ itemIdentifier: 'f' }] });
    const record = await h.record(eventId);
    assert.equal(record?.status, 'FAILED');
    assert.equal(record?.attempts, 1);
    const { stack, ...lastError } = record?.lastError ?? {};
    assert.deepEqual(lastError, {
      name: 'LedgerUnavailable',
      message: 'ledger database unavailable',
      retryable: true,
    });
    // With where the handler threw it (this test's handler)
    assert.match(stack ?? '', /^at .*worker\.test\.ts:\d+:\d+/);
    assert.equal(record?.lockExpiresAt, undefined);
    // Backoff: base 10 s after the delivery's first failed run (retries count per delivery, not per
    // receive of a message), and the record keeps when the next attempt is allowed
    const delay = h.queue.visibility.find((input) => input.ReceiptHandle === 'receipt-f-2');
    assert.deepEqual(delay, { QueueUrl: QUEUE_URL, ReceiptHandle: 'receipt-f-2', VisibilityTimeout: 10 });
    assert.equal(record?.retryAt, h.clock.now() + 10_000);
    assert.equal(h.queue.sent.length, 0);

    behaviour = async () => 'second time lucky';
    h.clock.advance(10_000);
    const retried = await worker(
      sqsEvent([message(eventId, { messageId: 'f', receiveCount: 3 })]),
      lambdaContext(),
    );
    assert.deepEqual(retried, { batchItemFailures: [] });
    const done = await h.record(eventId);
    assert.equal(done?.status, 'COMPLETED');
    assert.equal(done?.attempts, 2);
    assert.equal(runs.get(eventId), 2);
  });

  it('dead-letters a retryable failure on the last run of its budget instead of letting it vanish', async () => {
    const eventId = randomUUID();
    behaviour = async () => {
      throw new Error('still down');
    };
    const before = h.queue.sent.length;
    const worker = h.wire(handler);

    // Runs 1-4 fail and are retried, each after its backoff
    for (let n = 1; n <= 4; n++) {
      const response = await worker(
        sqsEvent([message(eventId, { messageId: 'last', receiveCount: n })]),
        lambdaContext(),
      );
      assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: 'last' }] });
      h.clock.advance(900_000);
    }
    const response = await worker(
      sqsEvent([message(eventId, { messageId: 'last', receiveCount: 5 })]),
      lambdaContext(),
    );

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(runs.get(eventId), 5);
    const record = await h.record(eventId);
    assert.equal(record?.status, 'DEAD');
    assert.equal(record?.deadAt, h.clock.now());
    assert.equal(h.queue.sent.length, before + 1);
    const sent = h.queue.sent.at(-1);
    assert.equal(sent?.MessageAttributes?.ErrorType?.StringValue, 'Error');
    assert.match(sent?.MessageAttributes?.ErrorMessage?.StringValue ?? '', /still down \(attempt 5 of 5\)/);
    assert.equal(sent?.MessageAttributes?.DeadLetterId?.StringValue, record?.deadLetterId);
  });

  it('runs a redriven DEAD delivery again, and acknowledges a plain copy of it as a duplicate', async () => {
    const eventId = randomUUID();
    behaviour = async () => {
      throw new NonRetryableError('broken');
    };
    const worker = h.wire(handler);
    await worker(sqsEvent([message(eventId)]), lambdaContext());
    assert.equal((await h.record(eventId))?.status, 'DEAD');
    const deadLetterId = h.queue.sent.at(-1)?.MessageAttributes?.DeadLetterId?.StringValue ?? '';
    assert.notEqual(deadLetterId, '');

    // A copy of the message (no DeadLetterId) is a duplicate: the handler does not run again
    behaviour = async () => 'fixed';
    const copy = await worker(sqsEvent([message(eventId)]), lambdaContext());
    assert.deepEqual(copy, { batchItemFailures: [] });
    assert.equal(runs.get(eventId), 1);

    // When ops redrive the DLQ after the fix (a new message that keeps the DeadLetterId attribute)
    const response = await worker(
      sqsEvent([message(eventId, { messageAttributes: { DeadLetterId: deadLetterId } })]),
      lambdaContext(),
    );

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(runs.get(eventId), 2);
    const record = await h.record(eventId);
    assert.equal(record?.status, 'COMPLETED');
    assert.equal(record?.attempts, 2);
    assert.equal(record?.lastError, undefined);
  });

  it('answers a mixed batch with exactly the records that must come back', async () => {
    const done = randomUUID();
    const fresh = randomUUID();
    const failing = randomUUID();
    behaviour = async () => 'ok';
    const worker = h.wire(handler);
    await worker(sqsEvent([message(done)]), lambdaContext());
    behaviour = async (payload) => {
      if (payload.transactionId === failing) throw new Error('transient');
      return 'ok';
    };

    const response = await worker(
      sqsEvent([
        message(done, { messageId: 'm-duplicate' }),
        message(fresh, { messageId: 'm-fresh' }),
        message(failing, { messageId: 'm-failing' }),
        sqsRecord('not json', { messageId: 'm-poison' }),
      ]),
      lambdaContext(),
    );

    assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: 'm-failing' }] });
    assert.equal(runs.get(done), 1);
    assert.equal(runs.get(fresh), 1);
  });

  it('treats a bare EventBridge event (from the DLQ, redriven) as addressed to its own RPC', async () => {
    behaviour = async () => 'bare';
    const eventId = randomUUID();
    const bare = busEvent(EVENT, authorizedPayload(eventId), { eventId });

    const response = await h.wire(handler)(sqsEvent([sqsRecord(bare)]), lambdaContext());

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(runs.get(eventId), 1);
    assert.equal((await h.record(eventId))?.status, 'COMPLETED');
  });

  it('returns every record to the queue when DynamoDB is unreachable', async () => {
    behaviour = async () => 'unreachable';
    const eventId = randomUUID();
    const { clientFor } = await import('../support/dynalite.ts');
    const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
    const offline = DynamoDBDocumentClient.from(clientFor('http://127.0.0.1:9'));
    const worker = h.wire(handler).withDependencies({ dynamo: offline });

    const response = await worker(sqsEvent([message(eventId, { messageId: 'offline' })]), lambdaContext());

    assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: 'offline' }] });
    assert.equal(runs.get(eventId), undefined);
    offline.destroy();
  });
});
