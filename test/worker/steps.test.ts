/**
 * Each step of the worker on its own (functions/commons/steps): screen, claim, run, record,
 * dead-letter, back off. DynamoDB is dynalite; SQS is the recording port.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { SQSRecord } from 'aws-lambda';
import { DeliveryStore } from '../../functions/commons/deliveries.ts';
import { NonRetryableError } from '../../functions/commons/errors.ts';
import { type Delivery, parseMessage, payloadHash } from '../../functions/commons/message.ts';
import { resolveWorkerOptions } from '../../functions/commons/options.ts';
import { PayloadValidator } from '../../functions/commons/schema.ts';
import type { RpcRunner, Settled, WorkerScope } from '../../functions/commons/scope.ts';
import { returnToQueue } from '../../functions/commons/steps/back-off.ts';
import { type Claimed, claim } from '../../functions/commons/steps/claim.ts';
import { deadLetter } from '../../functions/commons/steps/dead-letter.ts';
import { record } from '../../functions/commons/steps/record.ts';
import { run } from '../../functions/commons/steps/run.ts';
import { screen } from '../../functions/commons/steps/screen.ts';
import { receive } from '../../functions/commons/worker.ts';
import { quietLogger } from './support/fakes.ts';
import { authorizedPayload, DLQ_URL, type Harness, QUEUE_URL, startHarness } from './support/harness.ts';
import { busEvent, lambdaContext, queueMessage, type RecordOptions, sqsRecord } from './support/messages.ts';

const RPC = 'LedgerService/RecordTransaction';
const EVENT = 'card.transaction.authorized';

let outcome: () => Promise<unknown> = async () => 'ok';
const runner: RpcRunner = { handles: (name) => name === EVENT, run: () => outcome() };

function isSettled(value: Claimed | Settled): value is Settled {
  return 'report' in value;
}

describe('worker steps', () => {
  let h: Harness;
  let scope: WorkerScope;
  before(async () => {
    h = await startHarness(RPC);
    scope = {
      runner,
      config: h.config,
      options: resolveWorkerOptions({}),
      store: new DeliveryStore(h.dynamo.doc, h.config.deliveriesTable, h.config.recordRetentionSeconds),
      validator: new PayloadValidator(h.config.eventSchemas),
      deps: {
        dynamo: h.dynamo.doc,
        queue: h.queue,
        eventBus: h.bus,
        logger: quietLogger(),
        now: h.clock.now,
        sleep: async () => undefined,
      },
    };
  });
  after(async () => {
    await h.close();
  });
  beforeEach(() => {
    outcome = async () => 'ok';
  });

  function message(eventId: string, options: RecordOptions & { amount?: number } = {}): SQSRecord {
    const payload = { ...authorizedPayload(eventId), ...(options.amount ? { amount: options.amount } : {}) };
    return sqsRecord(queueMessage(RPC, busEvent(EVENT, payload, { eventId })), options);
  }
  const deliveryOf = (r: SQSRecord): Delivery => parseMessage(r.body, RPC);
  const claimOf = (r: SQSRecord) => claim(scope, receive(r), deliveryOf(r), lambdaContext());

  describe('screen', () => {
    it('passes a valid delivery and names each kind of poison', () => {
      const ok = screen(scope, message(randomUUID()).body);
      assert.equal(ok.kind, 'delivery');
      const kinds = [
        'not json',
        JSON.stringify(queueMessage('Other/Rpc', busEvent(EVENT, authorizedPayload(), { eventId: 'e' }))),
        JSON.stringify(queueMessage(RPC, busEvent('card.transaction.settled', {}, { eventId: 'e' }))),
        JSON.stringify(queueMessage(RPC, busEvent(EVENT, { amount: 'lots' }, { eventId: 'e' }))),
      ].map((body) => {
        const screened = screen(scope, body);
        return screened.kind === 'poison' ? screened.error.name : 'delivery';
      });
      assert.deepEqual(kinds, ['UnparseableMessage', 'UnknownRpc', 'UnknownEvent', 'SchemaViolation']);
    });
  });

  describe('claim', () => {
    it('claims a new delivery: attempt 1, run 1, the payload hash stored', async () => {
      const m = message(randomUUID());
      const claimed = await claimOf(m);
      assert.ok(!isSettled(claimed));
      assert.equal(claimed.via, 'new');
      assert.equal(claimed.attempt, 1);
      assert.equal(claimed.run, 1);
      const stored = await h.record(deliveryOf(m).eventId);
      assert.equal(stored?.payloadHash, payloadHash(deliveryOf(m).payload));
    });

    it('acknowledges a copy of a completed delivery and of a dead one, saying which', async () => {
      const done = message(randomUUID());
      const claimed = (await claimOf(done)) as Claimed;
      await scope.store.complete(
        { eventId: deliveryOf(done).eventId, rpc: RPC },
        claimed.attempt,
        undefined,
        h.clock.now(),
      );
      const dead = message(randomUUID());
      const deadClaim = (await claimOf(dead)) as Claimed;
      await scope.store.markDead(
        { eventId: deliveryOf(dead).eventId, rpc: RPC },
        {
          error: { name: 'E', message: 'm', retryable: false },
          now: h.clock.now(),
          deadLetterId: randomUUID(),
          fence: { kind: 'claim', attempt: deadClaim.attempt },
          eventName: EVENT,
        },
      );

      const a = (await claimOf(done)) as Settled;
      const b = (await claimOf(dead)) as Settled;

      assert.deepEqual([a.report.outcome, a.report.duplicateOf], ['duplicate', 'completed']);
      assert.deepEqual([b.report.outcome, b.report.duplicateOf], ['duplicate', 'dead-lettered']);
    });

    it('claims a DEAD delivery again for a redrive of its dead letter, with a fresh budget', async () => {
      const m = message(randomUUID());
      const first = (await claimOf(m)) as Claimed;
      const deadLetterId = randomUUID();
      await scope.store.markDead(
        { eventId: deliveryOf(m).eventId, rpc: RPC },
        {
          error: { name: 'E', message: 'm', retryable: false },
          now: h.clock.now(),
          deadLetterId,
          fence: { kind: 'claim', attempt: first.attempt },
          eventName: EVENT,
        },
      );

      const stale = (await claimOf(
        message(deliveryOf(m).eventId, { messageAttributes: { DeadLetterId: 'other' } }),
      )) as Settled;
      const redrive = await claimOf(
        message(deliveryOf(m).eventId, { messageAttributes: { DeadLetterId: deadLetterId } }),
      );

      assert.equal(stale.report.outcome, 'duplicate');
      assert.ok(!isSettled(redrive));
      assert.deepEqual([redrive.via, redrive.attempt, redrive.run], ['redrive', 2, 1]);
      assert.equal((await h.record(deliveryOf(m).eventId))?.deadLetterId, undefined);
    });

    it('reschedules a copy of a FAILED delivery to its next allowed attempt', async () => {
      const m = message(randomUUID(), { messageId: 'early' });
      const first = (await claimOf(m)) as Claimed;
      await scope.store.fail(
        { eventId: deliveryOf(m).eventId, rpc: RPC },
        first.attempt,
        { name: 'E', message: 'm', retryable: true },
        h.clock.now(),
        h.clock.now() + 40_000,
      );
      h.clock.advance(15_000);

      const early = (await claimOf(m)) as Settled;

      assert.deepEqual([early.report.outcome, early.report.retryInSeconds], ['rescheduled', 25]);
      assert.deepEqual(h.queue.visibility.at(-1), {
        QueueUrl: QUEUE_URL,
        ReceiptHandle: 'receipt-early-1',
        VisibilityTimeout: 25,
      });
      h.clock.advance(25_000);
      const due = await claimOf(m);
      assert.ok(!isSettled(due));
      assert.deepEqual([due.attempt, due.run], [2, 2]);
    });

    it('dead-letters another payload for the same delivery as an IdempotencyConflict', async () => {
      const eventId = randomUUID();
      await claimOf(message(eventId));
      const sent = h.queue.sent.length;

      const conflict = (await claimOf(message(eventId, { amount: 999 }))) as Settled;

      assert.equal(conflict.report.outcome, 'dead-lettered');
      assert.equal(conflict.report.errorType, 'IdempotencyConflict');
      assert.equal(h.queue.sent.length, sent + 1);
      assert.equal((await h.record(eventId))?.status, 'IN_PROGRESS', 'the delivery itself is left alone');
    });

    it('runs a delivery again for a new RerunId, whatever its state and payload, once', async () => {
      const eventId = randomUUID();
      const first = (await claimOf(message(eventId))) as Claimed;
      await scope.store.complete({ eventId, rpc: RPC }, first.attempt, undefined, h.clock.now());

      const rerun = await claimOf(message(eventId, { amount: 999, messageAttributes: { RerunId: 'r-1' } }));
      assert.ok(!isSettled(rerun));
      assert.deepEqual([rerun.via, rerun.attempt, rerun.run], ['rerun', 2, 1]);
      await scope.store.complete({ eventId, rpc: RPC }, rerun.attempt, undefined, h.clock.now());
      const again = (await claimOf(
        message(eventId, { amount: 999, messageAttributes: { RerunId: 'r-1' } }),
      )) as Settled;

      assert.deepEqual([again.report.outcome, again.report.duplicateOf], ['duplicate', 'completed']);
      assert.equal((await h.record(eventId))?.rerunId, 'r-1');
    });

    it('makes a re-run with an edited payload wait for a live claim, not a conflict', async () => {
      const eventId = randomUUID();
      await claimOf(message(eventId));

      const waiting = (await claimOf(
        message(eventId, { amount: 999, messageAttributes: { RerunId: 'r-busy' } }),
      )) as Settled;

      assert.equal(waiting.report.outcome, 'in-progress-elsewhere');
    });

    it('dead-letters, without running, a delivery whose worker died in its last allowed run', async () => {
      const eventId = randomUUID();
      for (let n = 1; n <= h.config.maxReceiveCount; n++) {
        const claimed = await claim(
          scope,
          receive(message(eventId)),
          deliveryOf(message(eventId)),
          lambdaContext(1000),
        );
        assert.ok(!isSettled(claimed), `run ${n} is claimed`);
        h.clock.advance(1001); // the worker dies: its claim expires
      }

      const last = (await claimOf(message(eventId))) as Settled;

      assert.equal(last.report.outcome, 'dead-lettered');
      assert.equal(last.report.errorType, 'AttemptsExhausted');
      assert.equal((await h.record(eventId))?.status, 'DEAD');
    });
  });

  describe('run', () => {
    it('reports a result or a summarized error, never throwing', async () => {
      const m = message(randomUUID());
      outcome = async () => ({ booked: true });
      const ok = await run(scope, deliveryOf(m), 1, lambdaContext(), quietLogger());
      outcome = async () => {
        throw new NonRetryableError('no such account');
      };
      const failed = await run(scope, deliveryOf(m), 1, lambdaContext(), quietLogger());

      assert.deepEqual(ok.ok && ok.result, { booked: true });
      assert.ok(!failed.ok);
      const { stack, ...error } = failed.error;
      assert.deepEqual(error, { name: 'NonRetryableError', message: 'no such account', retryable: false });
      // With where the RPC threw it
      assert.match(stack ?? '', /^at .*test\/worker\/steps\.test\.ts:\d+:\d+/);
    });
  });

  describe('record', () => {
    it('records COMPLETED, FAILED with its next attempt, or DEAD on the last run of the budget', async () => {
      const key = (m: SQSRecord) => deliveryOf(m).eventId;
      const done = message(randomUUID());
      const doneClaim = (await claimOf(done)) as Claimed;
      const failing = message(randomUUID());
      const failingClaim = (await claimOf(failing)) as Claimed;
      const error = { name: 'Down', message: 'down', retryable: true };

      const completed = await record(scope, receive(done), deliveryOf(done), doneClaim, {
        ok: true,
        result: 1,
        durationMs: 1,
      });
      const failed = await record(scope, receive(failing), deliveryOf(failing), failingClaim, {
        ok: false,
        error,
        durationMs: 1,
      });
      const last = await record(
        scope,
        receive(failing),
        deliveryOf(failing),
        { ...failingClaim, run: h.config.maxReceiveCount },
        {
          ok: false,
          error,
          durationMs: 1,
        },
      );

      assert.equal(completed.report.outcome, 'completed');
      assert.equal((await h.record(key(done)))?.status, 'COMPLETED');
      assert.deepEqual([failed.report.outcome, failed.report.retryInSeconds], ['failed', 10]);
      // the FAILED write was the claim holder's, so the last-run write is fenced out ("changed meanwhile")
      assert.equal(last.report.outcome, 'dead-lettered');
      assert.match(
        h.queue.sent.at(-1)?.MessageAttributes?.ErrorMessage?.StringValue ?? '',
        /down \(attempt 5 of 5\)/,
      );
    });
  });

  describe('dead-letter', () => {
    it('sends first and records DEAD with the letter id; when the send fails, the delivery waits FAILED for good', async () => {
      const eventId = randomUUID();
      const m = message(eventId);
      const claimed = (await claimOf(m)) as Claimed;
      const reason = { name: 'NonRetryableError', message: 'no', retryable: false };
      h.queue.failNextSends = 1;

      const unsent = await deadLetter(scope, receive(m), {
        reason,
        address: { rpc: RPC, eventId },
        attempts: 1,
        own: { delivery: deliveryOf(m), fence: { kind: 'claim', attempt: claimed.attempt } },
      });
      const stored = await h.record(eventId);

      assert.equal(unsent.report.outcome, 'failed');
      assert.equal(stored?.status, 'FAILED');
      assert.deepEqual(stored?.lastError, reason);

      // The next receive is not run: it goes straight to the DLQ
      const next = (await claimOf(m)) as Settled;
      assert.equal(next.report.outcome, 'dead-lettered');
      assert.equal(next.report.errorType, 'NonRetryableError');
      const dead = await h.record(eventId);
      assert.equal(dead?.status, 'DEAD');
      assert.equal(dead?.attempts, 1);
      assert.equal(dead?.deadLetterId, h.queue.sent.at(-1)?.MessageAttributes?.DeadLetterId?.StringValue);
      assert.equal(h.queue.sent.at(-1)?.QueueUrl, DLQ_URL);
    });
  });

  describe('back off', () => {
    it('delays a message by its visibility, or sends it again on its last receive so SQS does not dead-letter it', async () => {
      const early = receive(message(randomUUID(), { messageId: 'm1', receiveCount: 2 }));
      const last = receive(
        message(randomUUID(), {
          messageId: 'm2',
          receiveCount: h.config.maxReceiveCount,
          messageAttributes: { DeadLetterId: 'dl-1' },
        }),
      );

      const a = await returnToQueue(scope, early, 30);
      const b = await returnToQueue(scope, last, 1200);

      assert.deepEqual(a, { requeued: false });
      assert.equal(h.queue.visibility.at(-1)?.ReceiptHandle, 'receipt-m1-2');
      assert.deepEqual(b, { requeued: true });
      const copy = h.queue.sent.at(-1);
      assert.equal(copy?.QueueUrl, QUEUE_URL);
      assert.equal(copy?.MessageBody, last.record.body);
      assert.equal(copy?.DelaySeconds, 900);
      assert.deepEqual(copy?.MessageAttributes, {
        DeadLetterId: { DataType: 'String', StringValue: 'dl-1' },
      });
    });
  });
});
