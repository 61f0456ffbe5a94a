/**
 * Reads the body of an RPC queue message: the `QueueMessage` the rule's input transformer renders,
 * or a bare EventBridge event (what EventBridge puts in the DLQ when it cannot deliver; after a
 * redrive it is treated as addressed to this worker's RPC).
 */
import { createHash } from 'node:crypto';
import type { BusEvent, QueueMessage } from '../../common/contracts.ts';
import { PoisonMessageError } from './errors.ts';

/** One delivery as the worker sees it: the addressed RPC and the event's parts. */
export interface Delivery {
  /** The RPC the message is addressed to. */
  readonly rpc: string;
  readonly eventId: string;
  /** The EventBridge detail-type. */
  readonly eventName: string;
  readonly occurredAt: string;
  readonly correlationId: string;
  readonly causationId?: string;
  readonly publisher?: string;
  readonly payload: unknown;
  /** True when the body was a bare EventBridge event (no `rpc` wrapper). */
  readonly bare: boolean;
  /** The envelope's `replay-name`: EventBridge replayed this event from an archive (replays.ts). */
  readonly replayName?: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * The eventId of a body, when one can be found, even if the rest is malformed: it goes into the
 * DLQ attributes of an unparseable message.
 */
export function peekEventId(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const event = isObject(parsed) && isObject(parsed.event) ? parsed.event : parsed;
    const detail = isObject(event) ? event.detail : undefined;
    const metadata = isObject(detail) ? detail.metadata : undefined;
    return isObject(metadata) && nonEmptyString(metadata.eventId) ? metadata.eventId : undefined;
  } catch {
    return undefined;
  }
}

function unparseable(what: string): PoisonMessageError {
  return new PoisonMessageError(
    'UnparseableMessage',
    `${what}. Expected {"rpc":"Service/Method","event":<EventBridge event>} whose detail is ` +
      '{"metadata":{"eventId",...},"payload":{...}}; publish through event-router so the envelope is right.',
  );
}

/**
 * Parses a queue message body. `ownRpc` is the RPC a bare EventBridge event is attributed to.
 * Throws a {@link PoisonMessageError} (`UnparseableMessage`) for anything else.
 */
export function parseMessage(body: string, ownRpc: string): Delivery {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw unparseable(`The message body is not JSON (starts with ${JSON.stringify(body.slice(0, 40))})`);
  }
  if (!isObject(parsed)) throw unparseable('The message body is not a JSON object');

  const wrapped = 'event' in parsed || 'rpc' in parsed;
  if (wrapped && !nonEmptyString(parsed.rpc)) throw unparseable('The message has no "rpc" string');
  const event = wrapped ? parsed.event : parsed;
  if (!isObject(event)) throw unparseable('The message has no "event" object');
  const eventName = event['detail-type'];
  if (!nonEmptyString(eventName)) throw unparseable('The event has no "detail-type"');
  const detail = event.detail;
  if (!isObject(detail) || !isObject(detail.metadata))
    throw unparseable('The event detail has no "metadata" object');
  if (!('payload' in detail)) throw unparseable('The event detail has no "payload"');
  const metadata = detail.metadata;
  if (!nonEmptyString(metadata.eventId)) throw unparseable('The event metadata has no "eventId" string');

  const time = typeof event.time === 'string' ? event.time : new Date(0).toISOString();
  return {
    rpc: wrapped ? (parsed as unknown as QueueMessage).rpc : ownRpc,
    eventId: metadata.eventId,
    eventName,
    occurredAt: nonEmptyString(metadata.occurredAt) ? metadata.occurredAt : time,
    correlationId: nonEmptyString(metadata.correlationId) ? metadata.correlationId : metadata.eventId,
    causationId: nonEmptyString(metadata.causationId) ? metadata.causationId : undefined,
    publisher: nonEmptyString(metadata.publisher) ? metadata.publisher : undefined,
    payload: (event as unknown as BusEvent).detail.payload,
    bare: !wrapped,
    ...(nonEmptyString(event['replay-name']) ? { replayName: event['replay-name'] } : {}),
  };
}

/** JSON with object keys sorted, so the same value always gives the same text. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isObject(value))
    return `{${Object.keys(value)
      .sort()
      .filter((key) => value[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${stableJson(value[key])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/**
 * The hash a claim stores of a delivery's payload (SHA-256 of its JSON with sorted keys, base64url):
 * another delivery of the same (eventId, rpc) with a different payload is a conflict, not a duplicate.
 */
export function payloadHash(payload: unknown): string {
  return createHash('sha256').update(stableJson(payload)).digest('base64url');
}
