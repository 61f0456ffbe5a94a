/**
 * SDK clients, created once per execution environment (module scope) and reused by every invocation.
 * Region, credentials and `AWS_ENDPOINT_URL` (the local runtime) come from the environment.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventBusPort, QueuePort } from '../../common/ports.ts';

/** Document client over DynamoDB; `undefined` attributes are left out rather than rejected. */
export const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

/**
 * DynamoDB for the delivery store's per-record requests: the SDK resolves each command's middleware
 * stack once (`cacheMiddleware`) instead of on every request, which was about a sixth of the
 * worker's CPU per request. The document client refuses that option, hence a client of its own.
 */
export const deliveryRequests = new DynamoDBClient({ cacheMiddleware: true });

// Only the SDK's own commands go through these: their middleware is resolved once per command.
const sqs = new SQSClient({ cacheMiddleware: true });
const eventBridge = new EventBridgeClient({ cacheMiddleware: true });

/** SQS for the worker: DLQ sends and visibility changes. */
export const queue: QueuePort = {
  async sendMessage(input) {
    await sqs.send(new SendMessageCommand(input));
  },
  async changeMessageVisibility(input) {
    await sqs.send(new ChangeMessageVisibilityCommand(input));
  },
};

/** EventBridge for follow-up events. */
export const eventBus: EventBusPort = {
  putEvents: (input) => eventBridge.send(new PutEventsCommand(input)),
};
