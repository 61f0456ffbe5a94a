/**
 * The envelope every published event carries (`detail` on the bus) and the PutEvents entry around it.
 * The publish API, the typed publisher and the CLI all build entries here, so they publish the same shape.
 */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Envelope, EventMetadata } from '../commons/contracts.ts';
import { eventIdFor } from './event-id.ts';

/** One event to publish, as a client states it. */
export interface PublishInput {
  readonly event: string;
  readonly payload: unknown;
  /** Same key (for the same event) -> same eventId. */
  readonly idempotencyKey?: string;
  /** Defaults to the eventId (the event starts a new chain). */
  readonly correlationId?: string;
  /** eventId of the event whose handling led to this one. */
  readonly causationId?: string;
  /** ISO-8601 instant; defaults to now. */
  readonly occurredAt?: string;
}

export interface EnvelopeContext {
  /** Who publishes: a service name, an IAM principal, an API key id, a JWT subject. */
  readonly publisher: string;
  readonly schemaVersion: number;
  /** Clock for `occurredAt` when the input has none. */
  readonly now?: () => Date;
}

/** The envelope of `input`. */
export function buildEnvelope(input: PublishInput, context: EnvelopeContext): Envelope {
  const eventId = eventIdFor(input.event, input.idempotencyKey);
  const metadata: EventMetadata = {
    eventId,
    occurredAt: input.occurredAt ?? (context.now?.() ?? new Date()).toISOString(),
    correlationId: input.correlationId ?? eventId,
    ...(input.causationId !== undefined ? { causationId: input.causationId } : {}),
    publisher: context.publisher,
    schemaVersion: context.schemaVersion,
  };
  return { metadata, payload: input.payload };
}

/** The PutEvents entry carrying `envelope` as event `eventName`. */
export function toPutEventsEntry(
  eventName: string,
  envelope: Envelope,
  target: { readonly busName: string; readonly source: string },
): PutEventsRequestEntry {
  return {
    EventBusName: target.busName,
    Source: target.source,
    DetailType: eventName,
    Detail: JSON.stringify(envelope),
  };
}

/** Size of an entry as EventBridge counts it: UTF-8 bytes of Detail, DetailType, Source, Resources; 14 for Time. */
export function entrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time ? 14 : 0;
  for (const part of [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])])
    if (part) size += Buffer.byteLength(part, 'utf8');
  return size;
}
