/**
 * The reference the worker benchmark holds this project's worker against: Powertools for AWS Lambda
 * (TypeScript) as its documentation composes batch processing with idempotency. Per SQS record,
 * `makeIdempotent` (DynamoDB persistence layer: a conditional PutItem to save IN_PROGRESS, an
 * UpdateItem to save COMPLETED with the result) around a record handler that parses the message and
 * runs the same RPC function; the records of a batch go through `BatchProcessor` with
 * `processPartialResponse`, which handles them concurrently and builds the partial batch response.
 *
 * The idempotency key is the envelope's `eventId` (read with `powertools_json(body)`), not the SQS
 * messageId, so a redriven or re-sent message is a duplicate as it is for the worker.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** Creates Powertools' default idempotency table: hash key `id` (string), on demand. */
export async function createIdempotencyTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

/**
 * A Lambda handler for an SQS event source: every record runs `run(payload)` at most once per
 * `eventId`, through Powertools' BatchProcessor (parallel processing of the batch's records).
 */
export function powertoolsWorker(
  client: DynamoDBClient,
  tableName: string,
  run: (payload: unknown, eventId: string) => Promise<unknown>,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client });
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'powertools_json(body).event.detail.metadata.eventId',
    expiresAfterSeconds: 19 * 24 * 3600,
  });
  const processor = new BatchProcessor(EventType.SQS);
  const handleRecord = makeIdempotent(
    async (record: SQSRecord) => {
      const message = JSON.parse(record.body) as {
        event: { detail: { metadata: { eventId: string }; payload: unknown } };
      };
      return run(message.event.detail.payload, message.event.detail.metadata.eventId);
    },
    { persistenceStore, config },
  );
  return async (event, context) => {
    config.registerLambdaContext(context);
    return processPartialResponse(event, handleRecord, processor, { context, processInParallel: true });
  };
}
