/**
 * One dead letter as every ops tool reads it: the SQS message of a DLQ with the worker's reason
 * attributes (ErrorType, ErrorMessage, ErrorStack, Rpc, EventId, Attempts, FailedAt, DeadLetterId) and the event
 * named in its body. A body is `{"rpc", "event"}` as the rule renders it, or the bare event when
 * EventBridge itself could not deliver it (no worker saw it: no reason attributes).
 */
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { DLQ_ATTRIBUTES } from '../../common/contracts.ts';

/** Attributes the ops tools add or read besides the worker's {@link DLQ_ATTRIBUTES}. */
export const OPS_ATTRIBUTES = {
  /** The dead letter's identity, stored on the DEAD delivery record too: a redriven copy carries it. */
  deadLetterId: 'DeadLetterId',
  /** An explicit operator re-run: the worker runs the delivery again whatever its state. */
  rerunId: 'RerunId',
  /** Edit and retry: the messageId of the dead letter that was edited. */
  editedFrom: 'EditedFrom',
  /** Edit and retry: who edited it. */
  editedBy: 'EditedBy',
} as const;

/** SQS allows at most 10 message attributes per message. */
export const MAX_MESSAGE_ATTRIBUTES = 10;

/** The body cut to this many characters when shown. */
const BODY_PREVIEW_CHARS = 4000;

export interface DeadLetter {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly rpc: string;
  /** The event name (detail-type), when the body is an event. */
  readonly eventName?: string;
  readonly eventId?: string;
  readonly errorType?: string;
  readonly errorMessage?: string;
  /** The bounded stack of the error the RPC threw (`ErrorStack`), when it threw one. */
  readonly errorStack?: string;
  readonly attempts?: string;
  readonly failedAt?: string;
  readonly deadLetterId?: string;
  /** Epoch ms SQS accepted the message into the DLQ. */
  readonly sentAt?: number;
  readonly receiveCount?: number;
  /** The whole body. */
  readonly body: string;
  /** Message attributes as received (for a copy that keeps them). */
  readonly attributes: Readonly<Record<string, MessageAttributeValue>>;
}

/** What the CLI and the dashboard show of a dead letter (no receipt handle, body cut to a readable length). */
export interface DeadLetterView {
  readonly messageId: string;
  readonly eventName?: string;
  readonly eventId?: string;
  readonly errorType?: string;
  readonly errorMessage?: string;
  readonly errorStack?: string;
  readonly attempts?: string;
  readonly failedAt?: string;
  readonly receiveCount?: number;
  readonly body: string;
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The event inside a queue message body: `{rpc, event}` or a bare event; undefined when not JSON. */
export function eventOfBody(body: string): Record<string, unknown> | undefined {
  try {
    const parsed = asRecord(JSON.parse(body));
    return asRecord(parsed?.event) ?? parsed;
  } catch {
    return undefined;
  }
}

/** Reads a received DLQ message. */
export function readDeadLetter(rpc: string, m: Message): DeadLetter {
  const attr = (name: string) => m.MessageAttributes?.[name]?.StringValue;
  const body = m.Body ?? '';
  const event = eventOfBody(body);
  const eventName = str(event?.['detail-type']);
  const eventId = str(asRecord(asRecord(event?.detail)?.metadata)?.eventId) ?? attr(DLQ_ATTRIBUTES.eventId);
  const receiveCount = Number(m.Attributes?.ApproximateReceiveCount);
  const sentAt = Number(m.Attributes?.SentTimestamp);
  const optional = {
    eventName,
    eventId,
    // A message EventBridge could not deliver carries EventBridge's own reason attributes.
    errorType: attr(DLQ_ATTRIBUTES.errorType) ?? attr('ERROR_CODE'),
    errorMessage: attr(DLQ_ATTRIBUTES.errorMessage) ?? attr('ERROR_MESSAGE'),
    errorStack: attr(DLQ_ATTRIBUTES.errorStack),
    attempts: attr(DLQ_ATTRIBUTES.attempts),
    failedAt: attr(DLQ_ATTRIBUTES.failedAt),
    deadLetterId: attr(OPS_ATTRIBUTES.deadLetterId),
    receiveCount: Number.isFinite(receiveCount) ? receiveCount : undefined,
    sentAt: Number.isFinite(sentAt) ? sentAt : undefined,
  };
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    rpc,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    body,
    attributes: m.MessageAttributes ?? {},
  };
}

/** The view of a dead letter the tools print and serve. */
export function viewOf(d: DeadLetter): DeadLetterView {
  const { receiptHandle: _r, rpc: _rpc, attributes: _a, deadLetterId: _d, sentAt: _s, body, ...rest } = d;
  return { ...rest, body: body.length > BODY_PREVIEW_CHARS ? `${body.slice(0, BODY_PREVIEW_CHARS)}…` : body };
}

/**
 * The message attributes of a copy of `d`: every attribute it carries (DeadLetterId included, so the
 * worker takes the copy for the redrive of that dead letter), in the shape SendMessage accepts, plus
 * `extra`. Attributes beyond SQS's limit of 10 are dropped, the worker's own ones last.
 */
export function copiedAttributes(
  d: DeadLetter,
  extra: Readonly<Record<string, string>> = {},
): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  const keep = new Set<string>([...Object.values(DLQ_ATTRIBUTES), OPS_ATTRIBUTES.deadLetterId]);
  const entries = Object.entries(d.attributes).filter(([name]) => !(name in extra));
  // The worker's attributes first (its stack last of them), then any others, then the extra ones: the
  // limit drops the others first, then the stack.
  const rank = (name: string) => (name === DLQ_ATTRIBUTES.errorStack ? 1 : keep.has(name) ? 2 : 0);
  entries.sort(([a], [b]) => rank(b) - rank(a));
  const room = MAX_MESSAGE_ATTRIBUTES - Object.keys(extra).length;
  for (const [name, value] of entries.slice(0, room)) {
    out[name] =
      value.BinaryValue !== undefined && value.StringValue === undefined
        ? { DataType: value.DataType ?? 'Binary', BinaryValue: value.BinaryValue }
        : { DataType: value.DataType ?? 'String', StringValue: value.StringValue ?? '' };
  }
  for (const [name, value] of Object.entries(extra)) out[name] = { DataType: 'String', StringValue: value };
  return out;
}
