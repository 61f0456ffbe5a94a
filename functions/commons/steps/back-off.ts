/**
 * Step "back off": sends a record back to the queue, to be received again after `seconds`.
 *
 * Normally that is ChangeMessageVisibility on the record. A message on its last receive
 * (`ApproximateReceiveCount >= maxReceiveCount`) would be moved to the DLQ by the queue's redrive
 * policy the next time it is received, although its delivery still has runs left (retries are
 * counted per delivery, not per message; copies and reschedules spend receives without runs). Such a
 * record goes back as a new message instead (SendMessage with the same body and attributes, delayed
 * up to SQS's 900 s) and is acknowledged: the redrive policy only catches a worker that keeps dying.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { delayRetry, sourceQueueUrl } from '../backoff.ts';
import type { Received, WorkerScope } from '../scope.ts';

/** SQS's longest DelaySeconds. */
const MAX_DELAY_SECONDS = 900;

export interface Returned {
  /** True when the record went back as a new message (acknowledge this one). */
  readonly requeued: boolean;
  /** What could not be done (logged with the outcome); the queue's visibility timeout then applies. */
  readonly problem?: string;
}

/** The SendMessage form of a record's message attributes. */
export function messageAttributesOf(record: SQSRecord): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    if (value.stringValue !== undefined)
      out[name] = { DataType: value.dataType, StringValue: value.stringValue };
    else if (value.binaryValue !== undefined)
      out[name] = { DataType: value.dataType, BinaryValue: Buffer.from(value.binaryValue, 'base64') };
  }
  return out;
}

export async function returnToQueue(
  scope: WorkerScope,
  received: Received,
  seconds: number,
): Promise<Returned> {
  const { config, deps } = scope;
  const { record } = received;
  const queueUrl = sourceQueueUrl(config.dlqUrl, record.eventSourceARN);
  if (!queueUrl) return { requeued: false, problem: 'the queue URL is unknown' };
  if (received.receiveCount >= config.maxReceiveCount) {
    try {
      const attributes = messageAttributesOf(record);
      await deps.queue.sendMessage({
        QueueUrl: queueUrl,
        MessageBody: record.body,
        DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(seconds))),
        ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
      });
      return { requeued: true };
    } catch (error) {
      // Fall back to the visibility: the redrive policy may then move it, as before.
      return changeVisibility(scope, queueUrl, record, seconds, `could not requeue it: ${String(error)}`);
    }
  }
  return changeVisibility(scope, queueUrl, record, seconds);
}

async function changeVisibility(
  scope: WorkerScope,
  queueUrl: string,
  record: SQSRecord,
  seconds: number,
  problem?: string,
): Promise<Returned> {
  try {
    await delayRetry(scope.deps.queue, queueUrl, record.receiptHandle, seconds);
    return { requeued: false, ...(problem ? { problem } : {}) };
  } catch (error) {
    return {
      requeued: false,
      problem: `${problem ? `${problem}; ` : ''}could not delay it (the queue's visibility timeout applies): ${String(error)}`,
    };
  }
}
