/**
 * Exponential backoff between retries of a delivery: after a failed run its record keeps the next
 * allowed attempt (`retryAt`), and the message is made visible again then, with a delay that doubles
 * with each run of the delivery, up to a cap (ChangeMessageVisibility on the worker's own queue).
 */
import { MAX_VISIBILITY_SECONDS } from '../../common/aws-limits.ts';
import type { QueuePort } from '../../common/ports.ts';

export interface BackoffOptions {
  /** Delay after the first failed receive. @default 10 */
  readonly baseSeconds: number;
  /** Longest delay. SQS allows at most 43200 (12 h). @default 900 */
  readonly maxSeconds: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseSeconds: 10, maxSeconds: 900 };

/**
 * Seconds until the next attempt after the `run`-th run of a delivery failed: base x 2^(n-1), capped.
 * Runs count per delivery (its record's `runs`), not per SQS message.
 */
export function backoffSeconds(run: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const exponent = Math.max(0, run - 1);
  const delay = options.baseSeconds * 2 ** Math.min(exponent, 30);
  return Math.max(0, Math.min(delay, options.maxSeconds, MAX_VISIBILITY_SECONDS));
}

/**
 * The URL of the queue a record came from. The DLQ is named `<queue name>-dlq` beside its queue
 * (lib/naming.ts), so the queue's URL is the DLQ's with the last path segment replaced by the
 * queue name from the record's `eventSourceARN`: right on AWS and on the local runtime alike.
 */
export function sourceQueueUrl(dlqUrl: string, eventSourceArn: string): string | undefined {
  const queueName = eventSourceArn.split(':')[5];
  const slash = dlqUrl.lastIndexOf('/');
  if (!queueName || slash < 0) return undefined;
  return `${dlqUrl.slice(0, slash + 1)}${queueName}`;
}

/** Makes the message visible again after `seconds`. */
export async function delayRetry(
  queue: QueuePort,
  queueUrl: string,
  receiptHandle: string,
  seconds: number,
): Promise<void> {
  await queue.changeMessageVisibility({
    QueueUrl: queueUrl,
    ReceiptHandle: receiptHandle,
    VisibilityTimeout: Math.round(seconds),
  });
}
