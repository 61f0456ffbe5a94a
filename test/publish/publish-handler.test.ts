import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { PayloadValidator } from '../../common/payload-schema.ts';
import { loadPublishConfig } from '../../functions/publish/config.ts';
import { type PublishDependencies, route } from '../../functions/publish/handler.ts';
import { MAX_ENTRY_BYTES } from '../../functions/publish/limits.ts';
import { type LocalDynamo, startDynalite } from '../support/dynalite.ts';
import { apiEvent, postEvents } from './support/api-events.ts';
import { type EventBridgeStub, startEventBridgeStub } from './support/eventbridge-stub.ts';
import {
  CARD_NETWORK_CALLER,
  MOBILE_CALLER,
  publishDependencies,
  publishEnv,
  VALID_PAYLOAD,
} from './support/fixtures.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NOW = new Date('2026-11-25T10:00:00.000Z');

interface Problem {
  field: string;
  message: string;
  pointer?: string;
  suggestions?: string[];
}
interface Body {
  message?: string;
  errors?: Problem[];
  eventId?: string;
  event?: string;
  status?: string;
  error?: { code: string; retryable: boolean; message?: string };
  replayed?: boolean;
  failedCount?: number;
  entries?: { eventId: string; event: string; status: string; error?: { code: string } }[];
}

const silent = { info() {}, warn() {}, error() {} };
let stub: EventBridgeStub;
let dynamo: LocalDynamo;
let deps: PublishDependencies;

function parse(result: APIGatewayProxyResult): Body {
  return JSON.parse(result.body) as Body;
}

function fieldsOf(result: APIGatewayProxyResult): string[] {
  return (parse(result).errors ?? []).map((problem) => problem.field);
}

before(async () => {
  stub = await startEventBridgeStub();
  dynamo = await startDynalite('cardflow-dev-deliveries');
});
after(async () => {
  await stub.close();
  await dynamo.close();
});
beforeEach(() => {
  stub.reset();
  deps = publishDependencies(stub, dynamo, {
    logger: silent,
    send: { sleep: async () => {}, maxAttempts: 3 },
    now: () => NOW,
  });
});

describe('POST /events: one event', () => {
  it("puts the envelope on the bus under the publisher's source and answers 202 with the eventId", async () => {
    // When: the card network's role (an assumed-role session) publishes its event
    const result = await route(
      postEvents(
        { event: 'card.transaction.authorized', payload: VALID_PAYLOAD, correlationId: 'corr-1' },
        { identity: { userArn: CARD_NETWORK_CALLER } },
      ),
      deps,
    );
    // Then
    assert.equal(result.statusCode, 202);
    const body = parse(result);
    assert.equal(body.status, 'ACCEPTED');
    assert.equal(body.event, 'card.transaction.authorized');
    assert.match(body.eventId ?? '', UUID);
    assert.equal(stub.calls.length, 1);
    const [entry] = stub.accepted;
    assert.equal(entry?.EventBusName, 'cardflow-dev-bus');
    assert.equal(entry?.DetailType, 'card.transaction.authorized');
    assert.equal(entry?.Source, 'event-router.cardflow.card-network');
    assert.deepEqual(JSON.parse(entry?.Detail ?? '{}'), {
      metadata: {
        eventId: body.eventId,
        occurredAt: NOW.toISOString(),
        correlationId: 'corr-1',
        publisher: 'CardNetwork',
        schemaVersion: 2,
      },
      payload: VALID_PAYLOAD,
    });
  });

  it('derives the same eventId from the same idempotency key, and a different one otherwise', async () => {
    const publish = async (event: string, key: string, payload: unknown = VALID_PAYLOAD) =>
      parse(await route(postEvents({ event, payload, idempotencyKey: key }), deps)).eventId;
    const first = await publish('card.transaction.authorized', 'order-42');
    const again = await publish('card.transaction.authorized', 'order-42');
    const otherKey = await publish('card.transaction.authorized', 'order-43');
    const otherEvent = await publish('card.transaction.settled', 'order-42', { transactionId: 't' });
    assert.match(first ?? '', UUID);
    assert.equal(again, first);
    assert.notEqual(otherKey, first);
    assert.notEqual(otherEvent, first);
  });

  it('defaults correlationId to the eventId and names the declared publisher, not the caller', async () => {
    const body = parse(
      await route(postEvents({ event: 'card.transaction.settled', payload: { transactionId: 't' } }), deps),
    );
    const detail = JSON.parse(stub.accepted[0]?.Detail ?? '{}') as { metadata: Record<string, unknown> };
    assert.equal(detail.metadata.publisher, 'CardNetwork');
    assert.equal(detail.metadata.correlationId, body.eventId);
    assert.equal(detail.metadata.schemaVersion, 1);
  });
});

describe('POST /events: who may publish what', () => {
  it("answers 403 naming the event and the caller's publisher for an event it does not own, and sends nothing", async () => {
    const result = await route(
      postEvents(
        { event: 'card.transaction.authorized', payload: VALID_PAYLOAD },
        { identity: { userArn: MOBILE_CALLER } },
      ),
      deps,
    );
    assert.equal(result.statusCode, 403);
    assert.deepEqual(fieldsOf(result), ['event']);
    assert.equal(
      parse(result).errors?.[0]?.message,
      'Publisher MobileApp may not publish "card.transaction.authorized"; its publisher is CardNetwork.',
    );
    assert.equal(stub.calls.length, 0);
  });

  it('answers 403 to a caller that is no declared publisher (an IAM user, an API key, a JWT, nobody)', async () => {
    const callers: Parameters<typeof postEvents>[1][] = [
      { identity: { userArn: 'arn:aws:iam::123456789012:user/alice' } },
      { identity: { apiKeyId: 'key-123', apiKey: 'secret-value' } },
      { authorizer: { principalId: 'user-7', sub: 'user-7' } },
      { identity: { userArn: null } },
    ];
    for (const options of callers) {
      const result = await route(
        postEvents({ event: 'card.transaction.settled', payload: { transactionId: 't' } }, options),
        deps,
      );
      assert.equal(result.statusCode, 403, JSON.stringify(options));
      assert.match(parse(result).errors?.[0]?.message ?? '', /is not a declared publisher/);
    }
    assert.equal(stub.calls.length, 0);
  });

  it('refuses a batch naming each entry the caller may not publish, and sends nothing', async () => {
    const result = await route(
      postEvents(
        {
          entries: [
            { event: 'card.transaction.settled', payload: { transactionId: 't' } },
            { event: 'card.transaction.authorized', payload: VALID_PAYLOAD },
          ],
        },
        { identity: { userArn: MOBILE_CALLER } },
      ),
      deps,
    );
    assert.equal(result.statusCode, 403);
    assert.deepEqual(fieldsOf(result), ['entries[0].event', 'entries[1].event']);
    assert.equal(stub.calls.length, 0);
  });

  it('maps a JWT claim and a named API key to their publishers', async () => {
    const env = publishEnv({
      ER_PUBLISHERS: JSON.stringify({
        publishers: [
          {
            name: 'CardNetwork',
            source: 'event-router.cardflow.card-network',
            events: ['card.transaction.settled'],
            identity: { kind: 'jwt', claim: 'scope', value: 'events/card' },
          },
          {
            name: 'ExpenseTool',
            source: 'event-router.cardflow.expense-tool',
            events: ['card.transaction.authorized'],
            identity: { kind: 'apiKey', name: 'expense-tool' },
          },
        ],
        eventPublishers: {
          'card.transaction.settled': ['CardNetwork'],
          'card.transaction.authorized': ['ExpenseTool'],
        },
      }),
      ER_API_KEY_PUBLISHERS: JSON.stringify([['key-123', 'ExpenseTool']]),
    });
    const config = loadPublishConfig(env);
    const local = { ...deps, config, validator: new PayloadValidator(config.schemas) };
    const byJwt = await route(
      postEvents(
        { event: 'card.transaction.settled', payload: { transactionId: 't' } },
        { authorizer: { principalId: 'client-1', sub: 'client-1', scope: 'openid events/card' } },
      ),
      local,
    );
    assert.equal(byJwt.statusCode, 202);
    assert.equal(stub.accepted[0]?.Source, 'event-router.cardflow.card-network');
    const byKey = await route(
      postEvents(
        { event: 'card.transaction.authorized', payload: VALID_PAYLOAD },
        { identity: { apiKeyId: 'key-123' } },
      ),
      local,
    );
    assert.equal(byKey.statusCode, 202);
    assert.equal(stub.accepted[1]?.Source, 'event-router.cardflow.expense-tool');
    const wrongEvent = await route(
      postEvents(
        { event: 'card.transaction.settled', payload: { transactionId: 't' } },
        { identity: { apiKeyId: 'key-123' } },
      ),
      local,
    );
    assert.equal(wrongEvent.statusCode, 403);
    assert.match(
      parse(wrongEvent).message ?? '',
      /Publisher ExpenseTool may not publish "card.transaction.settled"/,
    );
  });
});

describe('POST /events: idempotency keys belong to their publisher', () => {
  it('the same key with the same payload answers the original eventId with replayed: true', async () => {
    const body = { event: 'card.transaction.authorized', payload: VALID_PAYLOAD, idempotencyKey: 'auth-77' };
    const first = parse(await route(postEvents(body), deps));
    const again = parse(await route(postEvents({ ...body, payload: { ...VALID_PAYLOAD } }), deps));
    assert.equal(again.eventId, first.eventId);
    assert.equal(first.replayed, undefined);
    assert.equal(again.replayed, true);
    // The replay is the same event (same envelope) sent again: downstream dedups it by eventId.
    assert.equal(stub.accepted.length, 2);
    assert.equal(stub.accepted[1]?.Detail, stub.accepted[0]?.Detail);
  });

  it('the same key with a different payload answers 409 naming the key, and sends nothing', async () => {
    const body = { event: 'card.transaction.authorized', payload: VALID_PAYLOAD, idempotencyKey: 'auth-78' };
    await route(postEvents(body), deps);
    const sent = stub.accepted.length;
    const result = await route(postEvents({ ...body, payload: { ...VALID_PAYLOAD, amount: 1 } }), deps);
    assert.equal(result.statusCode, 409);
    const answer = parse(result);
    assert.equal(answer.status, 'CONFLICT');
    assert.match(answer.message ?? '', /idempotencyKey "auth-78" was already used by CardNetwork/);
    assert.equal(answer.error?.code, 'IdempotencyKeyReused');
    assert.equal(stub.accepted.length, sent);
  });

  it('lets another publisher use the same key for its own event id', async () => {
    const env = publishEnv();
    const first = parse(
      await route(
        postEvents({
          event: 'card.transaction.settled',
          payload: { transactionId: 't' },
          idempotencyKey: 'k-1',
        }),
        deps,
      ),
    );
    assert.equal(first.status, 'ACCEPTED');
    // The same key in another publisher's name derives another eventId (UUIDv5 of publisher, event, key).
    const config = loadPublishConfig({
      ...env,
      ER_PUBLISHERS: env.ER_PUBLISHERS?.replaceAll('CardNetwork', 'CardNetwork2') ?? '',
    });
    const other = parse(
      await route(
        postEvents({
          event: 'card.transaction.settled',
          payload: { transactionId: 'different' },
          idempotencyKey: 'k-1',
        }),
        { ...deps, config },
      ),
    );
    assert.equal(other.status, 'ACCEPTED');
    assert.notEqual(other.eventId, first.eventId);
  });

  it('writes a receipt that lets the publisher read the status right away, without ?event=', async () => {
    const { eventId } = parse(
      await route(postEvents({ event: 'card.transaction.settled', payload: { transactionId: 't' } }), deps),
    );
    const status = await route(
      apiEvent('GET', '/events/{eventId}', { pathParameters: { eventId: eventId ?? '' } }),
      deps,
    );
    assert.equal(status.statusCode, 200);
    const body = JSON.parse(status.body) as { event: string; rpcs: { rpc: string; status: string }[] };
    assert.equal(body.event, 'card.transaction.settled');
    assert.deepEqual(body.rpcs, [{ rpc: 'LedgerService/SettleTransaction', status: 'PENDING' }]);
    // Another publisher learns nothing about it: 404, as for an unknown id.
    const other = await route(
      apiEvent('GET', '/events/{eventId}', {
        pathParameters: { eventId: eventId ?? '' },
        identity: { userArn: MOBILE_CALLER },
      }),
      deps,
    );
    assert.equal(other.statusCode, 404);
  });
});

describe('POST /events: bad requests are refused, naming the field, and nothing is sent', () => {
  it('malformed JSON -> 400 on body', async () => {
    const result = await route(postEvents('{"event": "card.transaction.authorized", '), deps);
    assert.equal(result.statusCode, 400);
    assert.deepEqual(fieldsOf(result), ['body']);
    assert.match(parse(result).message ?? '', /not valid JSON/);
  });

  it('empty body -> 400 on body', async () => {
    const result = await route(postEvents(''), deps);
    assert.equal(result.statusCode, 400);
    assert.deepEqual(fieldsOf(result), ['body']);
  });

  it('unknown event -> 400 with the closest known names', async () => {
    const result = await route(
      postEvents({ event: 'card.transaction.authorised', payload: VALID_PAYLOAD }),
      deps,
    );
    assert.equal(result.statusCode, 400);
    const [problem] = parse(result).errors ?? [];
    assert.equal(problem?.field, 'event');
    assert.equal(problem?.suggestions?.[0], 'card.transaction.authorized');
    assert.match(problem?.message ?? '', /Closest known events: card\.transaction\.authorized/);
  });

  it('payload against the schema -> 400 with a JSON pointer and message per violation', async () => {
    const payload = { transactionId: '', amount: -5, currency: 'eur', merchant: {}, tip: 1 };
    const result = await route(postEvents({ event: 'card.transaction.authorized', payload }), deps);
    assert.equal(result.statusCode, 400);
    const problems = parse(result).errors ?? [];
    assert.ok(problems.every((problem) => problem.field === 'payload'));
    const byPointer = new Map(problems.map((problem) => [problem.pointer, problem.message]));
    assert.match(byPointer.get('/transactionId') ?? '', /must be at least 1 character long/);
    assert.match(byPointer.get('/amount') ?? '', /must be >= 0/);
    assert.match(byPointer.get('/currency') ?? '', /must match pattern/);
    assert.match(byPointer.get('/merchant/name') ?? '', /is required/);
    assert.match(byPointer.get('/tip') ?? '', /is not allowed/);
    assert.equal(stub.calls.length, 0);
  });

  it('a payload of the wrong type -> 400 pointing at the payload itself', async () => {
    const result = await route(postEvents({ event: 'card.transaction.authorized', payload: [1, 2] }), deps);
    assert.equal(result.statusCode, 400);
    assert.equal(parse(result).errors?.[0]?.pointer, '');
  });

  it('missing event and payload, unknown field, bad ids and occurredAt -> 400 per field', async () => {
    const result = await route(
      postEvents({ idempotencyKey: '', correlationId: 7, occurredAt: 'yesterday', colour: 'red' }),
      deps,
    );
    assert.equal(result.statusCode, 400);
    assert.deepEqual(fieldsOf(result).sort(), [
      'colour',
      'correlationId',
      'event',
      'idempotencyKey',
      'occurredAt',
      'payload',
    ]);
  });

  it('an entry over 1 MB -> 413 naming the entry', async () => {
    const payload = { ...VALID_PAYLOAD, note: 'x'.repeat(MAX_ENTRY_BYTES) };
    const result = await route(
      postEvents({ entries: [{ event: 'card.transaction.authorized', payload }] }),
      deps,
    );
    assert.equal(result.statusCode, 413);
    assert.deepEqual(fieldsOf(result), ['entries[0]']);
    assert.match(parse(result).message ?? '', /limit is 1047552 bytes \(1 MiB less what a rule adds/);
    assert.equal(stub.calls.length, 0);
  });

  it('an entry under 1 MiB that would not fit a queue once a rule wraps it -> 413', async () => {
    const payload = { ...VALID_PAYLOAD, note: 'x'.repeat(1024 * 1024 - 900) };
    const result = await route(
      postEvents({ entries: [{ event: 'card.transaction.authorized', payload }] }),
      deps,
    );
    assert.equal(result.statusCode, 413);
    assert.match(
      parse(result).message ?? '',
      /1 MiB less what a rule adds on the way to a subscriber's queue/,
    );
    assert.equal(stub.calls.length, 0);
  });

  it('payloads JSON cannot carry faithfully -> 400 with the pointer, never 500', async () => {
    const body = (payload: string) => `{"event":"card.transaction.authorized","payload":${payload}}`;
    const valid = JSON.stringify(VALID_PAYLOAD).slice(1, -1);
    const cases: Array<{ payload: string; pointer: string; message: RegExp }> = [
      {
        payload: `{${valid.replace(/"amount":\d+/, '"amount":1e400')}}`,
        pointer: '/amount',
        message: /finite/,
      },
      {
        payload: `{${valid.replace(/"amount":\d+/, '"amount":9007199254740993')}}`,
        pointer: '/amount',
        message: /lose precision/,
      },
      { payload: `{${valid},"a\\u0001b":1}`, pointer: '/a\u0001b', message: /additionalProperties/ },
      { payload: `{${valid},"say \\"hi\\"":1}`, pointer: '/say "hi"', message: /additionalProperties/ },
      { payload: `{${valid},"x/~y":1}`, pointer: '/x~1~0y', message: /additionalProperties/ },
      { payload: `{${valid},"\ud800":1}`, pointer: '', message: /not valid Unicode/ },
      {
        payload: `{${valid},"deep":${'['.repeat(64)}${']'.repeat(64)}}`,
        pointer: '',
        message: /nested deeper than 64/,
      },
    ];
    for (const { payload, pointer, message } of cases) {
      const result = await route(postEvents(body(payload)), deps);
      assert.equal(result.statusCode, 400, payload.slice(-40));
      const problem = parse(result).errors?.find((e) => e.pointer === pointer);
      assert.ok(problem, `a problem at ${JSON.stringify(pointer)} in ${result.body.slice(0, 400)}`);
      assert.match(problem.message, message);
    }
    const tooDeep = await route(postEvents(body(`${'['.repeat(10_000)}${']'.repeat(10_000)}`)), deps);
    assert.equal(tooDeep.statusCode, 400);
    assert.deepEqual(fieldsOf(tooDeep), ['body']);
    assert.match(parse(tooDeep).message ?? JSON.stringify(parse(tooDeep).errors), /nested deeper than/);
    assert.equal(stub.calls.length, 0);
    const ok = await route(
      postEvents({ event: 'card.transaction.authorized', payload: VALID_PAYLOAD }),
      deps,
    );
    assert.equal(ok.statusCode, 202, 'still publishes afterwards');
  });

  it('more than 100 entries -> 400 on entries', async () => {
    const entries = Array.from({ length: 101 }, () => ({
      event: 'card.transaction.settled',
      payload: { transactionId: 't' },
    }));
    const result = await route(postEvents({ entries }), deps);
    assert.equal(result.statusCode, 400);
    assert.deepEqual(fieldsOf(result), ['entries']);
    assert.match(parse(result).message ?? '', /at most 100/);
  });

  it('empty entries, or entries next to event -> 400', async () => {
    const empty = await route(postEvents({ entries: [] }), deps);
    assert.equal(empty.statusCode, 400);
    assert.deepEqual(fieldsOf(empty), ['entries']);
    const mixed = await route(
      postEvents({ event: 'x', entries: [{ event: 'card.transaction.settled', payload: {} }] }),
      deps,
    );
    assert.equal(mixed.statusCode, 400);
    assert.deepEqual(fieldsOf(mixed), ['event']);
  });

  it('one bad entry in a batch refuses the batch, naming entries[i]', async () => {
    const entries = [
      { event: 'card.transaction.settled', payload: { transactionId: 't' } },
      { event: 'card.transaction.settled', payload: {} },
      { event: 'card.transaction.setled', payload: {} },
    ];
    const result = await route(postEvents({ entries }), deps);
    assert.equal(result.statusCode, 400);
    assert.deepEqual(fieldsOf(result), ['entries[1].payload', 'entries[2].event']);
    assert.equal(stub.calls.length, 0);
  });
});

describe('POST /events: batches and PutEvents failures', () => {
  const settled = (i: number) => ({
    event: 'card.transaction.settled',
    payload: { transactionId: `t-${i}` },
  });
  const idOf = (detail: string | undefined) =>
    (JSON.parse(detail ?? '{}') as { payload: { transactionId: string } }).payload.transactionId;

  it('sends 25 entries in PutEvents calls of at most 10 and answers per entry', async () => {
    const result = await route(
      postEvents({ entries: Array.from({ length: 25 }, (_, i) => settled(i)) }),
      deps,
    );
    assert.equal(result.statusCode, 202);
    const body = parse(result);
    assert.equal(body.failedCount, 0);
    assert.equal(body.entries?.length, 25);
    assert.ok(body.entries?.every((entry) => entry.status === 'ACCEPTED'));
    assert.deepEqual(
      stub.calls.map((call) => call.length).sort((a, b) => b - a),
      [10, 10, 5],
    );
    assert.equal(new Set(body.entries?.map((entry) => entry.eventId)).size, 25);
  });

  it('retries only the entries that failed, and reports them accepted', async () => {
    // Given: t-3 and t-7 fail with InternalFailure on their first send
    const failedOnce = new Set<string>();
    stub.fate = (entry) => {
      const id = idOf(entry.Detail);
      if ((id === 't-3' || id === 't-7') && !failedOnce.has(id)) {
        failedOnce.add(id);
        return 'InternalFailure';
      }
      return undefined;
    };
    // When
    const result = await route(
      postEvents({ entries: Array.from({ length: 10 }, (_, i) => settled(i)) }),
      deps,
    );
    // Then
    assert.equal(result.statusCode, 202);
    assert.equal(parse(result).failedCount, 0);
    assert.equal(stub.calls.length, 2);
    assert.deepEqual(
      stub.calls[1]?.map((entry) => idOf(entry.Detail)),
      ['t-3', 't-7'],
    );
    assert.equal(stub.accepted.length, 10);
  });

  it('reports an entry that keeps failing as FAILED next to the accepted ones (partial failure, 202)', async () => {
    stub.fate = (entry) => (idOf(entry.Detail) === 't-1' ? 'ThrottlingException' : undefined);
    const result = await route(postEvents({ entries: [settled(0), settled(1), settled(2)] }), deps);
    assert.equal(result.statusCode, 202);
    const body = parse(result);
    assert.equal(body.failedCount, 1);
    assert.deepEqual(
      body.entries?.map((entry) => entry.status),
      ['ACCEPTED', 'FAILED', 'ACCEPTED'],
    );
    assert.equal(body.entries?.[1]?.error?.code, 'ThrottlingException');
    // three attempts: the first call with all, then two retries with t-1 alone
    assert.deepEqual(
      stub.calls.map((call) => call.length),
      [3, 1, 1],
    );
  });

  it('does not retry an entry the bus refuses for good', async () => {
    stub.fate = (entry) => (idOf(entry.Detail) === 't-0' ? 'AccessDeniedException' : undefined);
    const result = await route(postEvents({ entries: [settled(0), settled(1)] }), deps);
    assert.equal(result.statusCode, 202);
    assert.equal(stub.calls.length, 1);
    assert.equal(parse(result).entries?.[0]?.error?.code, 'AccessDeniedException');
  });

  it('answers 503 with Retry-After when every entry failed and a retry may help', async () => {
    stub.fate = () => 'InternalFailure';
    const result = await route(
      postEvents({ event: 'card.transaction.settled', payload: { transactionId: 't' } }),
      deps,
    );
    assert.equal(result.statusCode, 503);
    assert.equal(result.headers?.['retry-after'], '1');
    const body = parse(result);
    assert.equal(body.status, 'FAILED');
    assert.equal(body.error?.retryable, true);
    assert.match(body.eventId ?? '', UUID);
  });

  it('answers 502 when every entry failed for good', async () => {
    stub.fate = () => 'AccessDeniedException';
    const result = await route(
      postEvents({ event: 'card.transaction.settled', payload: { transactionId: 't' } }),
      deps,
    );
    assert.equal(result.statusCode, 502);
    assert.equal(parse(result).error?.retryable, false);
  });

  it('answers 503 when the bus endpoint cannot be reached at all', async () => {
    // Given: a client pointed at a port that no longer listens
    const closed = await startEventBridgeStub();
    await closed.close();
    const unreachable = { ...deps, eventBridge: closed.client() };
    const result = await route(
      postEvents({ event: 'card.transaction.settled', payload: { transactionId: 't' } }),
      unreachable,
    );
    assert.equal(result.statusCode, 503);
    assert.equal(parse(result).status, 'FAILED');
  });
});

describe('routing', () => {
  it('answers 405 for other methods and 404 for other paths', async () => {
    const { apiEvent } = await import('./support/api-events.ts');
    assert.equal((await route(apiEvent('PUT', '/events'), deps)).statusCode, 405);
    assert.equal((await route(apiEvent('GET', '/other'), deps)).statusCode, 404);
  });

  it('answers 500 naming the missing variable when the bus is not configured', async () => {
    const bare = { ...deps, config: loadPublishConfig(publishEnv({ ER_EVENT_BUS: '' })) };
    const result = await route(postEvents({ event: 'card.transaction.settled', payload: {} }), bare);
    assert.equal(result.statusCode, 500);
    assert.match(parse(result).message ?? '', /ER_EVENT_BUS/);
  });
});
