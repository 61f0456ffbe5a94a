/**
 * The runtime's DynamoDB front: single-item writes asking for `ReturnValuesOnConditionCheckFailure:
 * ALL_OLD` fail with the item in the error, as DynamoDB does, so the worker's duplicate check costs
 * one request through the runtime. Real SDK clients against the runtime (in memory, port 0).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { defineRpc } from '../../generated/rpc.ts';
import { ManualClock, quietLogger, RecordingBus, RecordingQueue } from '../worker/support/fakes.ts';
import { authorizedPayload } from '../worker/support/harness.ts';
import { busEvent, lambdaContext, queueMessage, sqsEvent, sqsRecord } from '../worker/support/messages.ts';
import { CLIENT_CONFIG, type Harness, startHarness } from './helpers.ts';

/** A table whose key attributes are not the first ones of its items (PutItem derives the key). */
const TABLE = 'old-item-test';

/** What a write is expected to throw: the SDK's exception, with or without the item. */
async function conditionFailure(send: Promise<unknown>): Promise<ConditionalCheckFailedException> {
  try {
    await send;
  } catch (error) {
    assert.ok(error instanceof ConditionalCheckFailedException, `expected a failed condition, got ${error}`);
    return error;
  }
  assert.fail('the write succeeded; expected ConditionalCheckFailedException');
}

describe('the runtime DynamoDB: the item with a failed condition', () => {
  let h: Harness;
  let stored: Record<string, AttributeValue>;

  before(async () => {
    h = await startHarness();
    await h.dynamodb.send(
      new CreateTableCommand({
        TableName: TABLE,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    stored = {
      alpha: { S: 'first attribute' },
      pk: { S: 'p-1' },
      sk: { N: '7' },
      tags: { SS: ['a', 'b'] },
      nested: { M: { count: { N: '3' }, on: { BOOL: true } } },
    };
    await h.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: stored }));
  });
  after(async () => {
    await h?.close();
  });

  const key = { pk: { S: 'p-1' }, sk: { N: '7' } };

  it('UpdateItem: the exception carries the item as it is', async () => {
    const error = await conditionFailure(
      h.dynamodb.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: key,
          UpdateExpression: 'SET alpha = :v',
          ConditionExpression: 'attribute_not_exists(pk)',
          ExpressionAttributeValues: { ':v': { S: 'changed' } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    assert.deepEqual(error.Item, stored);
    assert.equal(error.message, 'The conditional request failed');
    assert.equal(error.$metadata.httpStatusCode, 400);
  });

  it('PutItem: the key comes from the table key schema, the exception carries the item', async () => {
    const error = await conditionFailure(
      h.dynamodb.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { ...key, alpha: { S: 'replacement' } },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    assert.deepEqual(error.Item, stored);
  });

  it('DeleteItem: the exception carries the item, which is still there', async () => {
    const error = await conditionFailure(
      h.dynamodb.send(
        new DeleteItemCommand({
          TableName: TABLE,
          Key: key,
          ConditionExpression: 'alpha = :other',
          ExpressionAttributeValues: { ':other': { S: 'something else' } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    assert.deepEqual(error.Item, stored);
    const { Item } = await h.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: key }));
    assert.deepEqual(Item, stored);
  });

  it('a missing item yields the exception without Item', async () => {
    const error = await conditionFailure(
      h.dynamodb.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { pk: { S: 'absent' }, sk: { N: '1' } },
          UpdateExpression: 'SET alpha = :v',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':v': { S: 'x' } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    assert.equal(error.Item, undefined);
  });

  it('without ALL_OLD (absent or NONE) the exception has no Item, as on DynamoDB', async () => {
    for (const returnValues of [undefined, 'NONE'] as const) {
      const error = await conditionFailure(
        h.dynamodb.send(
          new PutItemCommand({
            TableName: TABLE,
            Item: key,
            ConditionExpression: 'attribute_not_exists(pk)',
            ...(returnValues ? { ReturnValuesOnConditionCheckFailure: returnValues } : {}),
          }),
        ),
      );
      assert.equal(error.Item, undefined, `ReturnValuesOnConditionCheckFailure ${returnValues}`);
    }
  });

  it('a successful write asking for ALL_OLD is unaffected', async () => {
    const other = { pk: { S: `p-${randomUUID()}` }, sk: { N: '1' } };
    const put = await h.dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { ...other, n: { N: '1' } },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    assert.equal(put.$metadata.httpStatusCode, 200);
    const updated = await h.dynamodb.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: other,
        UpdateExpression: 'SET n = n + :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': { N: '1' } },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    assert.deepEqual(updated.Attributes, { ...other, n: { N: '2' } });
    const deleted = await h.dynamodb.send(
      new DeleteItemCommand({
        TableName: TABLE,
        Key: other,
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    assert.deepEqual(deleted.Attributes, { ...other, n: { N: '2' } });
  });

  it('rejects a value DynamoDB does not take', async () => {
    await assert.rejects(
      h.dynamodb.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: key,
          ReturnValuesOnConditionCheckFailure: 'ALL_NEW' as 'ALL_OLD',
        }),
      ),
      (error: Error) => error.name === 'ValidationException' && /enum value set/.test(error.message),
    );
  });

  it('a worker spends 2 requests on a first delivery and 1 on a duplicate through the runtime', async () => {
    // Given a worker whose DynamoDB client goes to the runtime and counts what it sends
    const RPC = 'Svc/Count';
    const EVENT = 'card.transaction.authorized';
    let runs = 0;
    const handler = defineRpc(EVENT, async () => {
      runs++;
      return 'ran';
    });
    const client = new DynamoDBClient({ ...CLIENT_CONFIG, endpoint: h.runtime.url, maxAttempts: 1 });
    let sent = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        sent++;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'countRequests' },
    );
    const clock = new ManualClock(Date.now());
    const worker = handler.withDependencies({
      dynamo: DynamoDBDocumentClient.from(client),
      queue: new RecordingQueue(),
      eventBus: new RecordingBus(),
      logger: quietLogger(),
      now: clock.now,
      sleep: async () => undefined,
      config: {
        rpc: RPC,
        deliveriesTable: 'test-dev-deliveries',
        dlqUrl: `${h.runtime.url}/000000000000/test-dev-svc-count-dlq`,
        maxReceiveCount: 3,
        recordRetentionSeconds: 3600,
        remoteTimeoutMs: 1000,
      },
    });
    const eventId = randomUUID();
    const message = () =>
      sqsEvent([sqsRecord(queueMessage(RPC, busEvent(EVENT, authorizedPayload(eventId), { eventId })))]);

    try {
      // When the same delivery arrives twice
      const first = await worker(message(), lambdaContext());
      const firstRequests = sent;
      const duplicate = await worker(message(), lambdaContext());
      const duplicateRequests = sent - firstRequests;

      // Then it ran once; the duplicate was one failed conditional write carrying the item
      assert.deepEqual(first, { batchItemFailures: [] });
      assert.deepEqual(duplicate, { batchItemFailures: [] });
      assert.equal(runs, 1);
      assert.equal(firstRequests, 2, 'claim + complete');
      assert.equal(duplicateRequests, 1, 'the failed claim returns the item: no read follows');
    } finally {
      client.destroy();
    }
  });
});
