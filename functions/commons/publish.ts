/**
 * Publishes follow-up events from inside an RPC: PutEvents on the router's bus with the envelope of
 * contracts.ts. The correlation id is carried forward, the causation id is the event being handled,
 * and the new event id is derived from (parent event id, rpc, event name, index) so a re-run after a
 * crash publishes the same ids instead of new events.
 */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Envelope, EventMetadata } from './contracts.ts';
import { EVENT_SOURCE_PREFIX } from './contracts.ts';
import { deterministicUuid } from './ids.ts';
import type { EventBusPort } from './ports.ts';

/** PutEvents attempts for an entry EventBridge rejected (FailedEntryCount > 0). */
const MAX_PUT_ATTEMPTS = 3;

export interface PublishParent {
  readonly eventId: string;
  readonly correlationId: string;
  /** `Service/Method` of the publishing RPC. */
  readonly rpc: string;
  /** Application name, when known. */
  readonly app?: string;
}

export interface PublisherOptions {
  readonly bus: EventBusPort;
  /** Undefined: publishing fails with an error that says the RPC declares no `publishes`. */
  readonly busName: string | undefined;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Schema version stamped into the metadata of a published event. */
  readonly schemaVersionOf: (eventName: string) => number;
}

/** Thrown when EventBridge keeps rejecting an entry; retryable (the delivery is retried). */
export class PublishError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PublishError';
  }
}

/**
 * `event-router.<app>.<kebab-case service>`, e.g. `event-router.cardflow.ledger-service`
 * (`event-router.<service>` when the app is unknown), beside the publish API's `event-router.<app>.publish-api`.
 */
export function sourceFor(rpc: string, app?: string): string {
  const service = rpc.split('/')[0] ?? rpc;
  const kebab = service
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
  return app ? `${EVENT_SOURCE_PREFIX}.${app}.${kebab}` : `${EVENT_SOURCE_PREFIX}.${kebab}`;
}

/** A publish function bound to one handler run; each call gets the next index. */
export function createPublisher(
  parent: PublishParent,
  options: PublisherOptions,
): (eventName: string, payload: unknown) => Promise<string> {
  let index = 0;
  return async (eventName, payload) => {
    const eventId = deterministicUuid(parent.eventId, parent.rpc, eventName, String(index++));
    if (!options.busName)
      throw new PublishError(
        `${parent.rpc} published "${eventName}" but has no event bus configured (ER_EVENT_BUS). ` +
          `List the event under "publishes:" of ${parent.rpc} in event-router.yaml.`,
      );
    const occurredAt = new Date(options.now());
    const metadata: EventMetadata = {
      eventId,
      occurredAt: occurredAt.toISOString(),
      correlationId: parent.correlationId,
      causationId: parent.eventId,
      publisher: parent.rpc.split('/')[0] ?? parent.rpc,
      schemaVersion: options.schemaVersionOf(eventName),
    };
    const envelope: Envelope = { metadata, payload };
    const entry: PutEventsRequestEntry = {
      EventBusName: options.busName,
      Source: sourceFor(parent.rpc, parent.app),
      DetailType: eventName,
      Detail: JSON.stringify(envelope),
      Time: occurredAt,
    };
    await putWithRetry(entry, options);
    return eventId;
  };
}

async function putWithRetry(entry: PutEventsRequestEntry, options: PublisherOptions): Promise<void> {
  let lastError = '';
  for (let attempt = 1; attempt <= MAX_PUT_ATTEMPTS; attempt++) {
    const output = await options.bus.putEvents({ Entries: [entry] });
    const result = output.Entries?.[0];
    if (!output.FailedEntryCount && !result?.ErrorCode) return;
    lastError = `${result?.ErrorCode ?? 'unknown error'}: ${result?.ErrorMessage ?? 'no message'}`;
    if (attempt < MAX_PUT_ATTEMPTS) await options.sleep(100 * 2 ** (attempt - 1));
  }
  throw new PublishError(
    `EventBridge rejected follow-up event "${entry.DetailType}" on bus "${entry.EventBusName}" ` +
      `${MAX_PUT_ATTEMPTS} times (last: ${lastError}); the delivery will be retried.`,
  );
}
