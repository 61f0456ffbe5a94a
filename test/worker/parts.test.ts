/**
 * The small modules of the worker, each on its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mapWithConcurrency } from '../../common/concurrency.ts';
import { publisherSource } from '../../common/publish.ts';
import { backoffSeconds, sourceQueueUrl } from '../../functions/commons/backoff.ts';
import { loadWorkerConfig } from '../../functions/commons/config.ts';
import { DeliveryStore } from '../../functions/commons/deliveries.ts';
import { isNonRetryable, NonRetryableError, summarizeError } from '../../functions/commons/errors.ts';
import { deterministicUuid, traceparent } from '../../functions/commons/ids.ts';
import { parseMessage } from '../../functions/commons/message.ts';
import { isRetryableStatus } from '../../functions/commons/remote.ts';
import { boundedResult } from '../../functions/commons/result.ts';
import { formatMoney } from '../../functions/rpcs/money.ts';
import { busEvent } from './support/messages.ts';

describe('backoff', () => {
  it('doubles the delay with each receive up to the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => backoffSeconds(n)),
      [10, 20, 40, 80, 160, 320, 640, 900, 900],
    );
    assert.equal(backoffSeconds(3, { baseSeconds: 1, maxSeconds: 100_000 }), 4);
    assert.equal(backoffSeconds(40, { baseSeconds: 60, maxSeconds: 100_000 }), 43_200);
  });

  it('finds the source queue URL beside the DLQ', () => {
    assert.equal(
      sourceQueueUrl(
        'https://sqs.eu-west-1.amazonaws.com/111122223333/cardflow-dev-ledger-service-record-transaction-dlq',
        'arn:aws:sqs:eu-west-1:111122223333:cardflow-dev-ledger-service-record-transaction',
      ),
      'https://sqs.eu-west-1.amazonaws.com/111122223333/cardflow-dev-ledger-service-record-transaction',
    );
    assert.equal(sourceQueueUrl('not-a-url', 'arn:aws:sqs'), undefined);
  });
});

describe('bounded result', () => {
  it('keeps a small result verbatim and replaces a large one with valid JSON', () => {
    assert.equal(boundedResult({ a: 1 }), '{"a":1}');
    assert.equal(boundedResult(undefined), undefined);
    const large = boundedResult({ text: 'x'.repeat(20_000) }, 1000) ?? '';
    const parsed = JSON.parse(large) as { truncated: boolean; bytes: number; preview: string };
    assert.equal(parsed.truncated, true);
    assert.equal(parsed.bytes, 20_011);
    assert.ok(large.length < 1000);
  });

  it('survives a result that cannot be serialized', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(boundedResult(cyclic), '{"unserializable":true,"type":"object"}');
  });
});

describe('errors', () => {
  it('classifies NonRetryableError (also subclasses) and bounds messages', () => {
    class AccountClosed extends NonRetryableError {}
    assert.equal(isNonRetryable(new AccountClosed('closed')), true);
    assert.equal(isNonRetryable(new Error('x')), false);
    assert.equal(isNonRetryable('text'), false);
    const summary = summarizeError(new Error('m'.repeat(5000)));
    assert.equal(summary.message.length, 1000);
    assert.deepEqual(summarizeError('plain'), { name: 'Error', message: 'plain', retryable: true });
  });
});

describe('message parsing', () => {
  it('reads the queue message and the bare event alike', () => {
    const event = busEvent('receipt.uploaded', { receiptId: 'r' }, { eventId: 'e-1', correlationId: 'c-1' });
    const wrapped = parseMessage(JSON.stringify({ rpc: 'A/B', event }), 'Own/Rpc');
    const bare = parseMessage(JSON.stringify(event), 'Own/Rpc');
    assert.equal(wrapped.rpc, 'A/B');
    assert.equal(wrapped.bare, false);
    assert.equal(bare.rpc, 'Own/Rpc');
    assert.equal(bare.bare, true);
    for (const delivery of [wrapped, bare]) {
      assert.equal(delivery.eventId, 'e-1');
      assert.equal(delivery.correlationId, 'c-1');
      assert.equal(delivery.eventName, 'receipt.uploaded');
      assert.deepEqual(delivery.payload, { receiptId: 'r' });
    }
  });

  it('names what is missing', () => {
    assert.throws(() => parseMessage('[]', 'A/B'), /not a JSON object/);
    assert.throws(() => parseMessage('{"rpc":"A/B"}', 'A/B'), /no "event" object/);
    assert.throws(
      () => parseMessage('{"rpc":"A/B","event":{"detail-type":"x","detail":{}}}', 'A/B'),
      /"metadata"/,
    );
  });
});

describe('ids', () => {
  it('derives stable, distinct UUIDs and traceparents', () => {
    const a = deterministicUuid('e', 'A/B', 'x', '0');
    assert.equal(a, deterministicUuid('e', 'A/B', 'x', '0'));
    assert.notEqual(a, deterministicUuid('e', 'A/B', 'x', '1'));
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(traceparent('c', 's').slice(0, 36), traceparent('c', 't').slice(0, 36));
  });

  it('names the source after the publishing RPC (each publisher has its own)', () => {
    assert.equal(
      publisherSource('cardflow', 'LedgerService/RecordTransaction'),
      'event-router.cardflow.ledger-service.record-transaction',
    );
    assert.equal(publisherSource('cardflow', 'CardNetwork'), 'event-router.cardflow.card-network');
  });
});

describe('remote status classes', () => {
  it('retries 408, 409, 429 and 5xx only', () => {
    assert.deepEqual(
      [400, 401, 404, 408, 409, 410, 422, 429, 500, 502, 504].filter(isRetryableStatus),
      [408, 409, 429, 500, 502, 504],
    );
  });
});

describe('bounded concurrency', () => {
  it('never has more than the limit in flight and keeps order', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapWithConcurrency([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return n * 2;
    });
    assert.deepEqual(results, [2, 4, 6, 8, 10, 12, 14]);
    assert.equal(peak, 3);
  });
});

describe('configuration', () => {
  it('reads the environment, including the event schemas', () => {
    const config = loadWorkerConfig(
      {},
      {
        ER_RPC: 'A/B',
        ER_DELIVERIES_TABLE: 't',
        ER_DLQ_URL: 'http://q/dlq',
        ER_MAX_RECEIVE_COUNT: '7',
        ER_EVENT_SCHEMAS: '{"x.y":{"type":"object"}}',
      },
    );
    assert.equal(config.maxReceiveCount, 7);
    assert.equal(config.recordRetentionSeconds, 19 * 24 * 3600);
    assert.deepEqual(config.eventSchemas, { 'x.y': { type: 'object' } });
  });

  it('explains bad values', () => {
    const base = { ER_RPC: 'A/B', ER_DELIVERIES_TABLE: 't', ER_DLQ_URL: 'u' };
    assert.throws(
      () => loadWorkerConfig({}, { ...base, ER_MAX_RECEIVE_COUNT: 'five' }),
      /ER_MAX_RECEIVE_COUNT="five"/,
    );
    assert.throws(
      () => loadWorkerConfig({}, { ...base, ER_EVENT_SCHEMAS: '{' }),
      /ER_EVENT_SCHEMAS is not valid JSON/,
    );
  });
});

describe('claim on DynamoDB proper', () => {
  // dynalite does not implement ReturnValuesOnConditionCheckFailure; DynamoDB returns the item with
  // the failure, which saves the read. This stub answers as DynamoDB does, to cover that branch.
  function storeAnswering(item: Record<string, { S: string } | { N: string }>) {
    let calls = 0;
    const client = {
      send: async () => {
        calls++;
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
          Item: item,
        });
      },
    } as unknown as DynamoDBDocumentClient;
    return { store: new DeliveryStore(client, 't', 60), calls: () => calls };
  }

  it('reports a completed duplicate from the returned item, with a single request', async () => {
    const { store, calls } = storeAnswering({ status: { S: 'COMPLETED' }, attempts: { N: '1' } });
    const outcome = await store.claim(
      { eventId: 'e', rpc: 'A/B' },
      { eventName: 'x', now: 1, lockMs: 1000, payloadHash: 'h', maxRuns: 5 },
    );
    assert.deepEqual(outcome, { kind: 'completed', attempts: 1 });
    assert.equal(calls(), 1);
  });

  it('reports a live claim with its expiry', async () => {
    const { store } = storeAnswering({
      status: { S: 'IN_PROGRESS' },
      attempts: { N: '2' },
      lockExpiresAt: { N: '5000' },
    });
    const outcome = await store.claim(
      { eventId: 'e', rpc: 'A/B' },
      { eventName: 'x', now: 1, lockMs: 1000, payloadHash: 'h', maxRuns: 5 },
    );
    assert.deepEqual(outcome, { kind: 'busy', attempts: 2, lockExpiresAt: 5000 });
  });
});

describe('money', () => {
  it('formats minor units', () => {
    assert.equal(formatMoney(1234, 'EUR'), '12.34 EUR');
    assert.equal(formatMoney(-5, 'USD'), '-0.05 USD');
  });
});
