import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createEventPublisher, PublishError } from '../../common/publisher.ts';
import { type EventBridgeStub, startEventBridgeStub } from './support/eventbridge-stub.ts';
import { CARD_AUTHORIZED_SCHEMA, SETTLED_SCHEMA, VALID_PAYLOAD } from './support/fixtures.ts';

interface Events {
  'card.transaction.authorized': typeof VALID_PAYLOAD & { note?: string };
  'card.transaction.settled': { transactionId: string };
}

const catalog = {
  schemas: {
    'card.transaction.authorized': CARD_AUTHORIZED_SCHEMA,
    'card.transaction.settled': SETTLED_SCHEMA,
  },
  schemaVersions: { 'card.transaction.authorized': 3, 'card.transaction.settled': 1 },
};

let stub: EventBridgeStub;
before(async () => {
  stub = await startEventBridgeStub();
});
after(async () => {
  await stub.close();
});
beforeEach(() => stub.reset());

function publisher() {
  return createEventPublisher<Events>(catalog, {
    busName: 'cardflow-dev-bus',
    publisher: 'CardNetwork',
    source: 'event-router.cardflow.card-network',
    client: stub.client(),
    send: { sleep: async () => {} },
  });
}

describe('typed publisher', () => {
  it('publishes the same envelope as the API and returns the eventId', async () => {
    const eventId = await publisher().publish('card.transaction.authorized', VALID_PAYLOAD, {
      idempotencyKey: 'auth-1',
      causationId: 'cause-1',
    });
    const [entry] = stub.accepted;
    assert.equal(entry?.Source, 'event-router.cardflow.card-network');
    assert.equal(entry?.DetailType, 'card.transaction.authorized');
    const detail = JSON.parse(entry?.Detail ?? '{}') as {
      metadata: Record<string, unknown>;
      payload: unknown;
    };
    assert.equal(detail.metadata.eventId, eventId);
    assert.equal(detail.metadata.causationId, 'cause-1');
    assert.equal(detail.metadata.publisher, 'CardNetwork');
    assert.equal(detail.metadata.schemaVersion, 3);
    assert.deepEqual(detail.payload, VALID_PAYLOAD);
    // the same idempotency key yields the same eventId as before
    assert.equal(
      await publisher().publish('card.transaction.authorized', VALID_PAYLOAD, { idempotencyKey: 'auth-1' }),
      eventId,
    );
  });

  it('validates before sending: an invalid payload throws with the pointer and sends nothing', async () => {
    const bad = { ...VALID_PAYLOAD, amount: -1 };
    await assert.rejects(publisher().publish('card.transaction.authorized', bad), (error: unknown) => {
      assert.ok(error instanceof PublishError);
      assert.equal(error.problems[0]?.pointer, '/amount');
      assert.match(error.message, /must be >= 0/);
      return true;
    });
    assert.equal(stub.calls.length, 0);
  });

  it('retries failed entries and throws when the bus never accepts one', async () => {
    stub.fate = () => 'InternalFailure';
    await assert.rejects(
      publisher().publish('card.transaction.settled', { transactionId: 't' }),
      /did not accept card\.transaction\.settled .* after 3 attempt\(s\): InternalFailure/,
    );
    assert.equal(stub.calls.length, 3);
  });

  it('publishes a batch of any size in calls of 10, with an outcome per entry', async () => {
    stub.fate = (entry) => (entry.Detail?.includes('"t-4"') ? 'AccessDeniedException' : undefined);
    const results = await publisher().publishBatch(
      Array.from({ length: 12 }, (_, i) => ({
        event: 'card.transaction.settled' as const,
        payload: { transactionId: `t-${i}` },
      })),
    );
    assert.equal(results.length, 12);
    assert.deepEqual(
      results.map((result) => result.outcome.ok),
      results.map((_, i) => i !== 4),
    );
    assert.deepEqual(stub.calls.map((call) => call.length).sort(), [10, 2].sort());
  });
});
