/**
 * Follow-up events: LedgerService/RecordTransaction publishes `ledger.entry.recorded` through
 * ctx.publish. The bus is a recording EventBridge port (no local EventBridge in unit tests).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Envelope } from '../../common/contracts.ts';
import { handler } from '../../functions/rpcs/ledger-service/record-transaction.ts';
import { authorizedPayload, type Harness, startHarness } from './support/harness.ts';
import { busEvent, lambdaContext, queueMessage, sqsEvent, sqsRecord } from './support/messages.ts';

const RPC = 'LedgerService/RecordTransaction';
const EVENT = 'card.transaction.authorized';

describe('follow-up events', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(RPC);
  });
  after(async () => {
    await h.close();
  });

  function deliver(eventId: string, receiveCount = 1) {
    const event = busEvent(EVENT, authorizedPayload(`tx-${eventId}`, 4200), {
      eventId,
      correlationId: 'flow-7',
    });
    return h.wire(handler)(
      sqsEvent([sqsRecord(queueMessage(RPC, event), { receiveCount })]),
      lambdaContext(),
    );
  }

  it('publishes ledger.entry.recorded with the envelope, correlation carried forward and causation set', async () => {
    const eventId = randomUUID();
    const before = h.bus.accepted.length;

    const response = await deliver(eventId);

    assert.deepEqual(response, { batchItemFailures: [] });
    const published = h.bus.accepted.slice(before);
    assert.equal(published.length, 1);
    const [entry] = published;
    assert.equal(entry?.EventBusName, 'cardflow-dev-bus');
    assert.equal(entry?.DetailType, 'ledger.entry.recorded');
    // Its own source (not its service's), as the rules of ledger.entry.recorded expect.
    assert.equal(entry?.Source, 'event-router.cardflow.ledger-service.record-transaction');
    const envelope = JSON.parse(entry?.Detail ?? '{}') as Envelope;
    assert.deepEqual(envelope.payload, {
      entryId: `le-tx-${eventId}`,
      transactionId: `tx-${eventId}`,
      amount: 4200,
      currency: 'EUR',
      department: 'meals',
    });
    assert.equal(envelope.metadata.correlationId, 'flow-7');
    assert.equal(envelope.metadata.causationId, eventId);
    assert.equal(envelope.metadata.publisher, 'LedgerService/RecordTransaction');
    assert.equal(envelope.metadata.schemaVersion, 1);
    assert.equal(envelope.metadata.occurredAt, new Date(h.clock.now()).toISOString());
    assert.match(
      envelope.metadata.eventId,
      // UUIDv5 of (publisher, event, key), the one id scheme; the key is the parent eventId and the index.
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const record = await h.record(eventId);
    assert.equal(JSON.parse(record?.result ?? '{}').followUpEventId, envelope.metadata.eventId);
  });

  it('gives the follow-up the same eventId when the delivery is re-run', async () => {
    const eventId = randomUUID();
    // Given a first run whose PutEvents keeps failing (HTTP 200 with FailedEntryCount)
    h.bus.rejectNext = 3;
    const callsBefore = h.bus.calls.length;
    const failed = await deliver(eventId, 1);
    assert.equal(failed.batchItemFailures.length, 1);
    assert.equal(h.bus.calls.length - callsBefore, 3, 'the rejected entry is retried before giving up');
    const record = await h.record(eventId);
    assert.equal(record?.status, 'FAILED');
    assert.equal(record?.lastError?.name, 'PublishError');
    assert.match(record?.lastError?.message ?? '', /InternalFailure/);

    // When the delivery is retried after its backoff and EventBridge accepts
    h.clock.advance(10_000);
    const acceptedBefore = h.bus.accepted.length;
    await deliver(eventId, 2);

    // Then the published id equals the one the failed run tried
    const attempted = JSON.parse(h.bus.calls[callsBefore]?.Entries?.[0]?.Detail ?? '{}') as Envelope;
    const accepted = JSON.parse(h.bus.accepted[acceptedBefore]?.Detail ?? '{}') as Envelope;
    assert.equal(accepted.metadata.eventId, attempted.metadata.eventId);
    assert.equal((await h.record(eventId))?.status, 'COMPLETED');
  });

  it('recovers from one rejected entry within the same run', async () => {
    const eventId = randomUUID();
    h.bus.rejectNext = 1;
    const response = await deliver(eventId);
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal((await h.record(eventId))?.status, 'COMPLETED');
  });

  it('fails the delivery with a clear reason when no bus is configured', async () => {
    const eventId = randomUUID();
    const event = busEvent(EVENT, authorizedPayload(), { eventId });
    const worker = h.wire(handler).withDependencies({ config: { ...h.config, eventBus: undefined } });

    await worker(sqsEvent([sqsRecord(queueMessage(RPC, event))]), lambdaContext());

    const record = await h.record(eventId);
    assert.equal(record?.status, 'FAILED');
    assert.match(record?.lastError?.message ?? '', /no event bus configured \(ER_EVENT_BUS\)/);
  });

  describe('follow-ups are validated before they are sent', () => {
    const SCHEMAS = 'ER_PUBLISHED_SCHEMAS';
    after(() => {
      delete process.env[SCHEMAS];
    });

    it('a follow-up that breaks its schema fails in the publishing RPC, to the DLQ with the reason', async () => {
      // Given: the declared schema of ledger.entry.recorded needs a field the handler does not send
      process.env[SCHEMAS] = JSON.stringify({
        'ledger.entry.recorded': {
          type: 'object',
          required: ['entryId', 'ledgerAccount'],
          'x-schema-version': 4,
        },
      });
      const eventId = randomUUID();
      const before = h.bus.calls.length;
      // When
      const response = await deliver(eventId);
      // Then: nothing reached the bus, and the delivery is dead with the violation as its reason
      assert.deepEqual(response, { batchItemFailures: [] });
      assert.equal(h.bus.calls.length, before);
      const record = await h.record(eventId);
      assert.equal(record?.status, 'DEAD');
      assert.equal(record?.lastError?.name, 'PublishError');
      assert.equal(record?.lastError?.retryable, false);
      assert.match(
        record?.lastError?.message ?? '',
        /^Follow-up "ledger.entry.recorded" of LedgerService\/RecordTransaction was not published: payload \/ledgerAccount is required\.$/,
      );
    });

    it('a follow-up the RPC does not declare fails the same way', async () => {
      process.env[SCHEMAS] = JSON.stringify({ 'some.other.event': { type: 'object' } });
      const eventId = randomUUID();
      await deliver(eventId);
      const record = await h.record(eventId);
      assert.equal(record?.status, 'DEAD');
      assert.match(record?.lastError?.message ?? '', /does not declare: list it under "publishes:"/);
    });

    it('a valid follow-up carries the schema version it was declared with', async () => {
      process.env[SCHEMAS] = JSON.stringify({
        'ledger.entry.recorded': { type: 'object', required: ['entryId'], 'x-schema-version': 4 },
      });
      const before = h.bus.accepted.length;
      await deliver(randomUUID());
      const envelope = JSON.parse(h.bus.accepted[before]?.Detail ?? '{}') as Envelope;
      assert.equal(envelope.metadata.schemaVersion, 4);
    });
  });
});
