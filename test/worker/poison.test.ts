/**
 * Poison messages: each kind goes to the RPC's DLQ once, with its reason as message attributes, and
 * is acknowledged (not retried). The DLQ is a recording SQS port (see support/fakes.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DLQ_ATTRIBUTES } from '../../common/contracts.ts';
import { defineRpc, NonRetryableError } from '../../generated/rpc.ts';
import { authorizedPayload, DLQ_URL, type Harness, startHarness } from './support/harness.ts';
import { busEvent, lambdaContext, queueMessage, sqsEvent, sqsRecord } from './support/messages.ts';

const RPC = 'NotificationService/NotifyCardholder';
const EVENT = 'card.transaction.authorized';

let runs = 0;
const handler = defineRpc(EVENT, async (payload) => {
  runs++;
  if (payload.merchant.name === 'Blocked Merchant')
    throw new NonRetryableError('Cardholder opted out of notifications for this merchant');
  return 'sent';
});

function attribute(
  sent: { MessageAttributes?: Record<string, { StringValue?: string }> } | undefined,
  name: string,
) {
  return sent?.MessageAttributes?.[name]?.StringValue;
}

describe('poison messages', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(RPC);
  });
  after(async () => {
    await h.close();
  });

  /** Delivers one record and returns what reached the DLQ because of it. */
  async function deliverOne(body: string | object, messageId = randomUUID()) {
    const before = h.queue.sent.length;
    const delaysBefore = h.queue.visibility.length;
    const runsBefore = runs;
    const response = await h.wire(handler)(sqsEvent([sqsRecord(body, { messageId })]), lambdaContext());
    return {
      response,
      sent: h.queue.sent.slice(before),
      ran: runs - runsBefore,
      delayed: h.queue.visibility.length - delaysBefore,
    };
  }

  it('dead-letters an unparseable body with its reason', async () => {
    const { response, sent, ran } = await deliverOne(
      '{"rpc": "NotificationService/NotifyCardholder", truncated',
    );

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(ran, 0);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.QueueUrl, DLQ_URL);
    assert.equal(sent[0]?.MessageBody, '{"rpc": "NotificationService/NotifyCardholder", truncated');
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.errorType), 'UnparseableMessage');
    assert.match(attribute(sent[0], DLQ_ATTRIBUTES.errorMessage) ?? '', /not JSON/);
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.rpc), RPC);
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.attempts), '0');
    assert.equal(sent[0]?.MessageAttributes?.[DLQ_ATTRIBUTES.attempts]?.DataType, 'Number');
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.failedAt), new Date(h.clock.now()).toISOString());
    assert.equal(sent[0]?.MessageAttributes?.[DLQ_ATTRIBUTES.eventId], undefined);
  });

  it('dead-letters a JSON body without an envelope, keeping the eventId it could find', async () => {
    const eventId = randomUUID();
    const event = busEvent(EVENT, authorizedPayload(), { eventId });
    const { payload: _dropped, ...detailWithoutPayload } = event.detail;
    const { sent } = await deliverOne({ rpc: RPC, event: { ...event, detail: detailWithoutPayload } });

    assert.equal(sent.length, 1);
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.errorType), 'UnparseableMessage');
    assert.match(attribute(sent[0], DLQ_ATTRIBUTES.errorMessage) ?? '', /no "payload"/);
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.eventId), eventId);
  });

  it('dead-letters a message addressed to another RPC', async () => {
    const eventId = randomUUID();
    const { response, sent, ran } = await deliverOne(
      queueMessage('LedgerService/RecordTransaction', busEvent(EVENT, authorizedPayload(), { eventId })),
    );

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(ran, 0);
    assert.equal(sent.length, 1);
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.errorType), 'UnknownRpc');
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.rpc), 'LedgerService/RecordTransaction');
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.eventId), eventId);
    // Not this worker's delivery: nothing is recorded under either RPC's key
    assert.equal(await h.record(eventId), undefined);
    assert.equal(await h.record(eventId, 'LedgerService/RecordTransaction'), undefined);
  });

  it('dead-letters an event this RPC has no handler for', async () => {
    const eventId = randomUUID();
    const { sent, ran } = await deliverOne(
      queueMessage(
        RPC,
        busEvent('receipt.uploaded', { receiptId: 'r', transactionId: 't', objectKey: 'k' }, { eventId }),
      ),
    );

    assert.equal(ran, 0);
    assert.equal(sent.length, 1);
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.errorType), 'UnknownEvent');
    assert.equal((await h.record(eventId))?.status, 'DEAD');
  });

  it('dead-letters a payload that violates the event schema, naming the fields', async () => {
    const eventId = randomUUID();
    const payload = { ...authorizedPayload(), amount: -5, currency: 'euro' };
    const { response, sent, ran } = await deliverOne(
      queueMessage(RPC, busEvent(EVENT, payload, { eventId, causationId: 'parent-of-bad-payload' })),
    );

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(ran, 0);
    assert.equal(sent.length, 1);
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.errorType), 'SchemaViolation');
    const reason = attribute(sent[0], DLQ_ATTRIBUTES.errorMessage) ?? '';
    assert.match(reason, /payload\.amount/);
    assert.match(reason, /payload\.currency/);
    const record = await h.record(eventId);
    assert.equal(record?.status, 'DEAD');
    assert.equal(record?.attempts, 0);
    assert.equal(record?.causationId, 'parent-of-bad-payload');
    assert.equal(record?.lastError?.name, 'SchemaViolation');
    assert.equal(record?.lastError?.retryable, false);
  });

  it('dead-letters a delivery whose handler throws NonRetryableError, after one run', async () => {
    const eventId = randomUUID();
    const payload = { ...authorizedPayload(), merchant: { name: 'Blocked Merchant', category: '5411' } };
    const { response, sent, ran, delayed } = await deliverOne(
      queueMessage(RPC, busEvent(EVENT, payload, { eventId })),
    );

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(ran, 1);
    assert.equal(delayed, 0, 'no backoff is wasted on a non-retryable failure');
    assert.equal(sent.length, 1);
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.errorType), 'NonRetryableError');
    assert.equal(
      attribute(sent[0], DLQ_ATTRIBUTES.errorMessage),
      'Cardholder opted out of notifications for this merchant',
    );
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.attempts), '1');
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.eventId), eventId);
    const record = await h.record(eventId);
    assert.equal(record?.status, 'DEAD');
    assert.equal(record?.attempts, 1);
    assert.equal(record?.deadAt, h.clock.now());
  });

  it('runs a NonRetryableError delivery once even when its dead letter could not be sent at first', async () => {
    // Given a handler refusing for good, and a DLQ that fails the first send
    const eventId = randomUUID();
    const payload = { ...authorizedPayload(), merchant: { name: 'Blocked Merchant', category: '5411' } };
    const body = queueMessage(RPC, busEvent(EVENT, payload, { eventId }));
    const messageId = randomUUID();
    h.queue.failNextSends = 1;

    // When the message is received, and again after it returned to the queue
    const first = await deliverOne(body, messageId);
    const second = await deliverOne(body, messageId);

    // Then the handler ran once, the first receive returned the message, the second dead-lettered it
    assert.deepEqual(first.response, { batchItemFailures: [{ itemIdentifier: messageId }] });
    assert.equal(first.ran + second.ran, 1);
    assert.deepEqual(second.response, { batchItemFailures: [] });
    assert.equal(second.sent.length, 1);
    assert.equal(attribute(second.sent[0], DLQ_ATTRIBUTES.errorType), 'NonRetryableError');
    const record = await h.record(eventId);
    assert.equal(record?.status, 'DEAD');
    assert.equal(record?.deadLetterId, attribute(second.sent[0], DLQ_ATTRIBUTES.deadLetterId));
  });

  it('acknowledges the undeleted copy of a dead-lettered delivery (a kill -9 before the batch delete) once', async () => {
    // Given a delivery dead-lettered by its handler, whose message was never deleted
    const eventId = randomUUID();
    const payload = { ...authorizedPayload(), merchant: { name: 'Blocked Merchant', category: '5411' } };
    const body = queueMessage(RPC, busEvent(EVENT, payload, { eventId }));
    const messageId = randomUUID();
    const first = await deliverOne(body, messageId);
    assert.equal(first.sent.length, 1);

    // When the same message comes back
    const again = await deliverOne(body, messageId);

    // Then it is a duplicate: not run, not dead-lettered again
    assert.deepEqual(again.response, { batchItemFailures: [] });
    assert.equal(again.ran, 0);
    assert.equal(again.sent.length, 0);
  });

  it('keeps a poison message in the queue when the DLQ cannot be reached, and sends it once later', async () => {
    h.queue.failNextSends = 1;
    const messageId = randomUUID();
    const first = await deliverOne('garbage', messageId);
    assert.deepEqual(first.response, { batchItemFailures: [{ itemIdentifier: messageId }] });
    assert.equal(first.sent.length, 0);

    const second = await deliverOne('garbage', messageId);
    assert.deepEqual(second.response, { batchItemFailures: [] });
    assert.equal(second.sent.length, 1);
  });

  it('dead-letters a schema-violating copy of a completed delivery as a conflict, leaving its record alone', async () => {
    // The copy carries another payload than the one the delivery completed with: not a duplicate.
    const eventId = randomUUID();
    await deliverOne(queueMessage(RPC, busEvent(EVENT, authorizedPayload(), { eventId })));
    assert.equal((await h.record(eventId))?.status, 'COMPLETED');

    const { response, sent } = await deliverOne(
      queueMessage(RPC, busEvent(EVENT, { ...authorizedPayload(), amount: 'lots' }, { eventId })),
    );

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(sent.length, 1);
    assert.equal(attribute(sent[0], DLQ_ATTRIBUTES.errorType), 'IdempotencyConflict');
    assert.equal((await h.record(eventId))?.status, 'COMPLETED');
  });

  it('acknowledges a schema-violating copy of a delivery it dead-lettered already (a kill -9 before the delete)', async () => {
    // Given a poison message that was dead-lettered, whose batch was never deleted
    const eventId = randomUUID();
    const body = queueMessage(RPC, busEvent(EVENT, { ...authorizedPayload(), amount: 'lots' }, { eventId }));
    const messageId = randomUUID();
    const first = await deliverOne(body, messageId);
    assert.equal(first.sent.length, 1);

    // When the same message comes back
    const again = await deliverOne(body, messageId);

    // Then it is acknowledged as a duplicate: one dead letter
    assert.deepEqual(again.response, { batchItemFailures: [] });
    assert.equal(again.sent.length, 0);
    assert.equal(
      (await h.record(eventId))?.deadLetterId,
      attribute(first.sent[0], DLQ_ATTRIBUTES.deadLetterId),
    );
  });
});
