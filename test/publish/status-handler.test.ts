import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryRecord } from '../../common/contracts.ts';
import { type PublishReceipt, RECEIPT_SORT_KEY } from '../../common/receipts.ts';
import { type PublishDependencies, route } from '../../functions/publish/handler.ts';
import { type LocalDynamo, startDynalite } from '../support/dynalite.ts';
import { apiEvent } from './support/api-events.ts';
import { type EventBridgeStub, startEventBridgeStub } from './support/eventbridge-stub.ts';
import { MOBILE_CALLER, publishDependencies } from './support/fixtures.ts';

const TABLE = 'cardflow-dev-deliveries';
const NOW = Date.parse('2026-11-25T10:00:00.000Z');

interface StatusBody {
  eventId: string;
  event?: string;
  correlationId?: string;
  causationId?: string;
  completed: boolean;
  summary: Record<string, number>;
  rpcs: Record<string, unknown>[];
  message?: string;
}

let dynamo: LocalDynamo;
let stub: EventBridgeStub;
let deps: PublishDependencies;

function record(eventId: string, rpc: string, fields: Partial<DeliveryRecord>): DeliveryRecord {
  return {
    eventId,
    rpc,
    status: 'IN_PROGRESS',
    eventName: 'card.transaction.authorized',
    correlationId: 'corr-1',
    attempts: 1,
    updatedAt: NOW - 1000,
    expiresAt: Math.floor(NOW / 1000) + 86400,
    ...fields,
  };
}

/** The receipt the API writes when CardNetwork (the tests' default caller) publishes `eventId`. */
async function published(eventId: string, eventName = 'card.transaction.authorized') {
  const receipt: PublishReceipt = {
    eventId,
    rpc: RECEIPT_SORT_KEY,
    eventName,
    publisher: 'CardNetwork',
    payloadHash: 'h',
    occurredAt: new Date(NOW - 2000).toISOString(),
    correlationId: 'corr-1',
    publishedAt: NOW - 2000,
    expiresAt: Math.floor(NOW / 1000) + 86400,
  };
  await dynamo.doc.send(new PutCommand({ TableName: TABLE, Item: receipt }));
}

/** The status as `caller` sees it (default: CardNetwork's role; `local`: a local request naming no publisher). */
async function getStatus(eventId: string, query?: Record<string, string>, caller?: 'local') {
  const result = await route(
    apiEvent('GET', '/events/{eventId}', {
      pathParameters: { eventId },
      ...(query ? { query } : {}),
      ...(caller === 'local' ? { authorizer: { localPublisher: '' } } : {}),
    }),
    deps,
  );
  return { statusCode: result.statusCode, body: JSON.parse(result.body) as StatusBody };
}

before(async () => {
  dynamo = await startDynalite(TABLE);
  stub = await startEventBridgeStub();
  deps = publishDependencies(stub, dynamo, { now: () => new Date(NOW) });
});
after(async () => {
  await dynamo.close();
  await stub.close();
});

describe('GET /events/{eventId}', () => {
  it('lists every subscribed RPC: COMPLETED, FAILED, and PENDING for those without a record', async () => {
    // Given: published by CardNetwork; NotifyCardholder completed; RecordTransaction failed once
    await published('e-1');
    await dynamo.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: record('e-1', 'NotificationService/NotifyCardholder', {
          status: 'COMPLETED',
          completedAt: NOW - 500,
          firstAttemptAt: NOW - 900,
        }),
      }),
    );
    await dynamo.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: record('e-1', 'LedgerService/RecordTransaction', {
          status: 'FAILED',
          attempts: 2,
          lastError: { name: 'TimeoutError', message: 'ledger did not answer', retryable: true },
        }),
      }),
    );
    // When
    const { statusCode, body } = await getStatus('e-1');
    // Then
    assert.equal(statusCode, 200);
    assert.equal(body.event, 'card.transaction.authorized');
    assert.equal(body.correlationId, 'corr-1');
    assert.equal(body.causationId, undefined);
    assert.equal(body.completed, false);
    assert.deepEqual(body.rpcs, [
      {
        rpc: 'NotificationService/NotifyCardholder',
        status: 'COMPLETED',
        attempts: 1,
        completedAt: new Date(NOW - 500).toISOString(),
      },
      {
        rpc: 'LedgerService/RecordTransaction',
        status: 'FAILED',
        attempts: 2,
        lastError: { name: 'TimeoutError', message: 'ledger did not answer', retryable: true },
        updatedAt: new Date(NOW - 1000).toISOString(),
      },
    ]);
    assert.deepEqual(body.summary, { PENDING: 0, IN_PROGRESS: 0, COMPLETED: 1, FAILED: 1, DEAD: 0 });
  });

  it('shows PENDING for a subscribed RPC that has no record yet, and DEAD and IN_PROGRESS states', async () => {
    await published('e-2');
    await dynamo.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: record('e-2', 'LedgerService/RecordTransaction', {
          status: 'DEAD',
          attempts: 5,
          deadAt: NOW - 10,
          lastError: { name: 'SchemaViolation', message: 'bad', retryable: false },
        }),
      }),
    );
    const first = await getStatus('e-2');
    assert.deepEqual(
      first.body.rpcs.map((rpc) => [rpc.rpc, rpc.status]),
      [
        ['NotificationService/NotifyCardholder', 'PENDING'],
        ['LedgerService/RecordTransaction', 'DEAD'],
      ],
    );
    assert.equal(first.body.rpcs[1]?.deadAt, new Date(NOW - 10).toISOString());

    await dynamo.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: record('e-2', 'NotificationService/NotifyCardholder', {
          lockExpiresAt: NOW - 1,
          firstAttemptAt: NOW - 5000,
        }),
      }),
    );
    const second = await getStatus('e-2');
    assert.deepEqual(second.body.rpcs[0], {
      rpc: 'NotificationService/NotifyCardholder',
      status: 'IN_PROGRESS',
      attempts: 1,
      startedAt: new Date(NOW - 5000).toISOString(),
      lockExpired: true,
    });
  });

  it('is complete when every subscribed RPC completed', async () => {
    await published('e-3', 'card.transaction.settled');
    await dynamo.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: record('e-3', 'LedgerService/SettleTransaction', {
          status: 'COMPLETED',
          eventName: 'card.transaction.settled',
        }),
      }),
    );
    const { body } = await getStatus('e-3');
    assert.equal(body.completed, true);
    assert.deepEqual(body.summary.COMPLETED, 1);
  });

  it('shows the causationId at the top level when any record knows it', async () => {
    // Given: a follow-up event (no receipt: an RPC published it), read by ops/locally; only one of its
    // records was written with the causationId
    await dynamo.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: record('e-caused', 'NotificationService/NotifyCardholder', { status: 'COMPLETED' }),
      }),
    );
    await dynamo.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: record('e-caused', 'LedgerService/RecordTransaction', {
          status: 'COMPLETED',
          causationId: 'e-parent',
        }),
      }),
    );
    // When
    const { statusCode, body } = await getStatus('e-caused', undefined, 'local');
    // Then
    assert.equal(statusCode, 200);
    assert.equal(body.correlationId, 'corr-1');
    assert.equal(body.causationId, 'e-parent');
    assert.equal(
      body.rpcs.some((rpc) => 'causationId' in rpc),
      false,
    );
  });

  it('answers 404 for an id with no record, naming the way to list PENDING subscribers', async () => {
    const { statusCode, body } = await getStatus('never-published');
    assert.equal(statusCode, 404);
    assert.match(body.message ?? '', /\?event=<name>/);
  });

  it('lists every subscriber as PENDING for an id without records when the client names the event', async () => {
    const { statusCode, body } = await getStatus(
      'just-published',
      { event: 'card.transaction.authorized' },
      'local',
    );
    assert.equal(statusCode, 200);
    assert.deepEqual(
      body.rpcs.map((rpc) => rpc.status),
      ['PENDING', 'PENDING'],
    );
    // Then: a subscription with a content filter says so (it may never receive this event)
    assert.equal(body.rpcs[0]?.filtered, true);
    assert.equal(body.rpcs[1]?.filtered, undefined);
  });

  it('is private: another publisher, and a declared publisher asking about an event it did not publish, get 404', async () => {
    await published('e-private');
    await dynamo.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: record('e-private', 'LedgerService/RecordTransaction', {
          status: 'FAILED',
          lastError: { name: 'Error', message: 'account 12345 is frozen', retryable: true },
        }),
      }),
    );
    assert.equal((await getStatus('e-private')).statusCode, 200);
    const other = await route(
      apiEvent('GET', '/events/{eventId}', {
        pathParameters: { eventId: 'e-private' },
        identity: { userArn: MOBILE_CALLER },
      }),
      deps,
    );
    assert.equal(other.statusCode, 404);
    assert.doesNotMatch(other.body, /frozen|LedgerService/);
    // A follow-up (no receipt) is not shown to the card network either, even with ?event=.
    assert.equal((await getStatus('e-caused', { event: 'card.transaction.authorized' })).statusCode, 404);
  });

  it('refuses an event name the router does not know (400 on event)', async () => {
    const result = await route(
      apiEvent('GET', '/events/{eventId}', { pathParameters: { eventId: 'x' }, query: { event: 'nope' } }),
      deps,
    );
    assert.equal(result.statusCode, 400);
    assert.equal((JSON.parse(result.body) as { errors: { field: string }[] }).errors[0]?.field, 'event');
  });

  it('shows COMPLETED after publishing through POST and recording the delivery', async () => {
    // Given: an event published through the API
    const posted = await route(
      apiEvent('POST', '/events', {
        body: JSON.stringify({
          event: 'card.transaction.settled',
          payload: { transactionId: 't' },
          idempotencyKey: 'k-1',
        }),
      }),
      deps,
    );
    const { eventId } = JSON.parse(posted.body) as { eventId: string };
    // When: the worker records its delivery
    await dynamo.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: record(eventId, 'LedgerService/SettleTransaction', {
          status: 'COMPLETED',
          eventName: 'card.transaction.settled',
        }),
      }),
    );
    // Then
    const { body } = await getStatus(eventId);
    assert.equal(body.completed, true);
    assert.equal(body.event, 'card.transaction.settled');
  });
});

describe('an event the bus did not accept', () => {
  const post = (key?: string) =>
    route(
      apiEvent('POST', '/events', {
        body: JSON.stringify({
          event: 'card.transaction.settled',
          payload: { transactionId: 't-bus' },
          ...(key !== undefined ? { idempotencyKey: key } : {}),
        }),
      }),
      { ...deps, send: { sleep: async () => {}, maxAttempts: 2 } },
    );
  const storedReceipt = async (eventId: string) =>
    (
      await dynamo.doc.send(
        new GetCommand({ TableName: TABLE, Key: { eventId, rpc: RECEIPT_SORT_KEY }, ConsistentRead: true }),
      )
    ).Item as PublishReceipt | undefined;

  it('shows notOnBus with the error until a retry with the same key puts it on the bus', async () => {
    // Given: the bus refuses the entry (throttled) at every attempt
    stub.fate = () => 'ThrottlingException';
    const failed = await post('k-bus');
    assert.equal(failed.statusCode, 503);
    const { eventId } = JSON.parse(failed.body) as { eventId: string };
    // Then: its status says it never reached the bus, and how to send it
    const before = await getStatus(eventId);
    assert.equal(before.statusCode, 200);
    const notOnBus = (before.body as unknown as { notOnBus?: { error: { code: string }; hint: string } })
      .notOnBus;
    assert.equal(notOnBus?.error.code, 'ThrottlingException');
    assert.match(notOnBus?.hint ?? '', /idempotencyKey "k-bus": the same event/);
    assert.equal((await storedReceipt(eventId))?.notSent?.retryable, true);
    // When: the publisher retries with the same key and the bus accepts it
    stub.fate = () => undefined;
    const retried = await post('k-bus');
    assert.equal(retried.statusCode, 202);
    assert.equal((JSON.parse(retried.body) as { eventId: string; replayed?: boolean }).eventId, eventId);
    // Then: the mark is gone, from the status and from the receipt
    const after = await getStatus(eventId);
    assert.equal('notOnBus' in after.body, false);
    const receipt = await storedReceipt(eventId);
    assert.equal(receipt?.notSent, undefined);
    assert.equal(receipt?.publisher, 'CardNetwork');
  });

  it('without an idempotencyKey, says a new publish gets a new eventId; an accepted publish has no mark', async () => {
    stub.fate = () => 'AccessDeniedException';
    const failed = await post();
    assert.equal(failed.statusCode, 502);
    const { eventId } = JSON.parse(failed.body) as { eventId: string };
    const { body } = await getStatus(eventId);
    const notOnBus = (body as unknown as { notOnBus?: { error: { retryable: boolean }; hint: string } })
      .notOnBus;
    assert.equal(notOnBus?.error.retryable, false);
    assert.match(notOnBus?.hint ?? '', /no idempotencyKey, so the new publish gets a new eventId/);
    stub.fate = () => undefined;
    const accepted = JSON.parse((await post()).body) as { eventId: string };
    assert.equal('notOnBus' in (await getStatus(accepted.eventId)).body, false);
    assert.equal((await storedReceipt(accepted.eventId))?.notSent, undefined);
  });
});

describe('GET /events/{eventId} without resource and path parameters (a gateway that passes only the path)', () => {
  it('takes the eventId from the path', async () => {
    const event = apiEvent('GET', '/events/{eventId}', { pathParameters: { eventId: 'e-3' } });
    const bare = { ...event, resource: '', path: '/events/e-3', pathParameters: null };
    const result = await route(bare, deps);
    assert.equal(result.statusCode, 200);
    assert.equal((JSON.parse(result.body) as StatusBody).eventId, 'e-3');
  });
});
