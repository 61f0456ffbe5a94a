/**
 * Builders for what a worker receives: EventBridge events, queue messages, SQS records and events,
 * and a Lambda context.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { BusEvent, QueueMessage } from '../../../common/contracts.ts';

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';

export interface EventOptions {
  readonly eventId?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly occurredAt?: string;
}

/** An EventBridge event as a rule target receives it, with the event-router envelope as detail. */
export function busEvent(eventName: string, payload: unknown, options: EventOptions = {}): BusEvent {
  const eventId = options.eventId ?? randomUUID();
  const occurredAt = options.occurredAt ?? '2026-11-20T10:00:00.000Z';
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': eventName,
    source: 'event-router.card-service',
    account: ACCOUNT,
    time: occurredAt,
    region: REGION,
    resources: [],
    detail: {
      metadata: {
        eventId,
        occurredAt,
        correlationId: options.correlationId ?? `corr-${eventId}`,
        ...(options.causationId ? { causationId: options.causationId } : {}),
        publisher: 'CardService',
        schemaVersion: 1,
      },
      payload,
    },
  };
}

/** The body the rule's input transformer puts on the RPC queue. */
export function queueMessage(rpc: string, event: BusEvent): QueueMessage {
  return { rpc, event };
}

export interface RecordOptions {
  readonly messageId?: string;
  readonly receiveCount?: number;
  readonly queueName?: string;
  /** String message attributes, e.g. `{ DeadLetterId: '...' }` on a redriven dead letter. */
  readonly messageAttributes?: Readonly<Record<string, string>>;
}

/** An SQS record as the event source mapping delivers it; `body` objects are JSON-encoded. */
export function sqsRecord(body: string | object, options: RecordOptions = {}): SQSRecord {
  const messageId = options.messageId ?? randomUUID();
  return {
    messageId,
    receiptHandle: `receipt-${messageId}-${options.receiveCount ?? 1}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: '1763632800000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1763632800000',
    },
    messageAttributes: Object.fromEntries(
      Object.entries(options.messageAttributes ?? {}).map(([name, value]) => [
        name,
        { dataType: 'String', stringValue: value, stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${options.queueName ?? 'cardflow-dev-test-queue'}`,
    awsRegion: REGION,
  };
}

export function sqsEvent(records: readonly SQSRecord[]): SQSEvent {
  return { Records: [...records] };
}

/** A Lambda context whose remaining time is `remainingMs` (constant). */
export function lambdaContext(remainingMs = 30_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'cardflow-dev-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:cardflow-dev-test`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/cardflow-dev-test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
