/** The SQS event a Lambda function receives from an event source mapping (one record per message). */
import type { Message, Queue } from '../services/sqs/queue.ts';

export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: Record<string, string>;
  readonly messageAttributes: Record<string, unknown>;
  readonly md5OfBody: string;
  readonly md5OfMessageAttributes?: string;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

export function sqsRecord(queue: Queue, m: Message, receiptHandle: string, region: string): SqsRecord {
  const attributes: Record<string, string> = {
    ApproximateReceiveCount: String(m.receiveCount),
    SentTimestamp: String(m.sentAt),
    SenderId: 'AIDAEVENTROUTERLOCAL',
    ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt),
  };
  if (m.traceHeader) attributes.AWSTraceHeader = m.traceHeader;
  if (m.deadLetterSourceArn) attributes.DeadLetterQueueSourceArn = m.deadLetterSourceArn;
  const messageAttributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(m.attributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType,
      stringListValues: [],
      binaryListValues: [],
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: value.BinaryValue } : {}),
    };
  }
  return {
    messageId: m.id,
    receiptHandle,
    body: m.body,
    attributes,
    messageAttributes,
    md5OfBody: m.md5OfBody,
    ...(m.md5OfAttributes ? { md5OfMessageAttributes: m.md5OfAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: region,
  };
}

/** What a delivery log line says about a message: the event and the RPC it is for. */
export function describeMessage(
  body: string,
  fallbackRpc: string,
): { eventName: string; eventId: string; rpc: string } {
  try {
    const parsed = JSON.parse(body) as {
      rpc?: unknown;
      event?: { 'detail-type'?: unknown; id?: unknown; detail?: { metadata?: { eventId?: unknown } } };
      'detail-type'?: unknown;
      id?: unknown;
      detail?: { metadata?: { eventId?: unknown } };
    };
    const event = parsed.event ?? parsed;
    return {
      eventName: typeof event['detail-type'] === 'string' ? event['detail-type'] : '?',
      eventId: String(event.detail?.metadata?.eventId ?? event.id ?? '?'),
      rpc: typeof parsed.rpc === 'string' ? parsed.rpc : fallbackRpc,
    };
  } catch {
    return { eventName: '?', eventId: '?', rpc: fallbackRpc };
  }
}
