/**
 * The narrow views of SQS and EventBridge the worker uses. The real ones (clients.ts) wrap SDK
 * clients; tests that have no local SQS or EventBridge can record what would be sent.
 */
import type { PutEventsCommandInput, PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import type { ChangeMessageVisibilityCommandInput, SendMessageCommandInput } from '@aws-sdk/client-sqs';

/** SQS operations of a worker: send to its DLQ, delay a retry. */
export interface QueuePort {
  sendMessage(input: SendMessageCommandInput): Promise<void>;
  changeMessageVisibility(input: ChangeMessageVisibilityCommandInput): Promise<void>;
}

/** EventBridge operations of a worker: publish follow-up events. */
export interface EventBusPort {
  putEvents(input: PutEventsCommandInput): Promise<PutEventsCommandOutput>;
}
