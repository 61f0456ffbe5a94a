/**
 * A publisher for services and RPC handlers: `publish(name, payload, options)` validates the payload
 * against the event's schema, wraps it in the same envelope as the publish API, sends it with PutEvents
 * (FailedEntryCount checked, failed entries retried with backoff) and returns the eventId.
 *
 * Typed through an event map (`EventPayloads` from `generated/events.ts`), so a payload that does not
 * match its event does not compile. `generated/publisher.ts` binds it to the router's events.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { type PayloadSchema, PayloadValidator } from './payload-schema.ts';
import {
  busOf,
  PublishError,
  type PublishInput,
  type PublishResult,
  prepareEntries,
  type SendOptions,
  type SendOutcome,
  sendEntries,
} from './publish.ts';

export { PublishError, type PublishResult };

/** Per-event options of a publish. */
export interface PublishOptions {
  /** Same key (for the same publisher and event) -> same eventId, so a retry is deduplicated downstream. */
  readonly idempotencyKey?: string;
  /** @default - the new event's eventId */
  readonly correlationId?: string;
  /** eventId of the event being handled, when publishing a follow-up. */
  readonly causationId?: string;
  /** ISO-8601 instant the fact happened. @default - now */
  readonly occurredAt?: string;
}

export interface PublisherOptions {
  /** Name (or ARN) of the router's bus, e.g. `names.busName(ctx)`. */
  readonly busName: string;
  /** The declared publisher this code publishes as (a name under `publishers:`): `metadata.publisher`. */
  readonly publisher: string;
  /**
   * Its EventBridge source, `publisherSource(app, publisher)`: rules deliver only events from the sources
   * of each event's declared publishers, and the publisher's managed policy allows only this one.
   */
  readonly source: string;
  /** @default - a new EventBridgeClient with the default configuration */
  readonly client?: EventBridgeClient;
  /** Retry and backoff of failed entries. */
  readonly send?: SendOptions;
}

/** One entry of `publishBatch`: an event name with the payload its type requires. */
export type BatchEntry<M> = {
  [N in keyof M & string]: { readonly event: N; readonly payload: M[N] } & PublishOptions;
}[keyof M & string];

export interface Publisher<M> {
  /** Publishes one event; resolves to its eventId. Throws PublishError when it is invalid or was not accepted. */
  publish<N extends keyof M & string>(name: N, payload: M[N], options?: PublishOptions): Promise<string>;
  /**
   * Publishes many events (any number: sent 10 per PutEvents call). Throws PublishError if any entry is
   * invalid (then nothing is sent); otherwise resolves to one result per entry, accepted or not.
   */
  publishBatch(entries: readonly BatchEntry<M>[]): Promise<PublishResult[]>;
}

/** The schemas a publisher validates against. */
export interface EventCatalog<M> {
  readonly schemas: { readonly [N in keyof M]: object };
  readonly schemaVersions: { readonly [N in keyof M]: number };
}

/** A publisher for the events of `catalog`. */
export function createEventPublisher<M>(catalog: EventCatalog<M>, options: PublisherOptions): Publisher<M> {
  const validator = new PayloadValidator(catalog.schemas as unknown as Record<string, PayloadSchema>);
  const bus = busOf(options.client ?? new EventBridgeClient({}));
  const schemaVersions = catalog.schemaVersions as unknown as Record<string, number>;

  async function publishBatch(entries: readonly BatchEntry<M>[]): Promise<PublishResult[]> {
    const inputs = entries.map((entry, i) => ({ input: entry as PublishInput, field: `entries[${i}]` }));
    const prepared = prepareEntries(inputs, {
      validator,
      schemaVersions,
      publisher: options.publisher,
      busName: options.busName,
      source: options.source,
    });
    if (prepared.problems.length > 0)
      throw new PublishError(
        `Not published: ${prepared.problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
        prepared.problems,
      );
    const outcomes = await sendEntries(
      bus,
      prepared.entries.map((entry) => entry.entry),
      options.send,
    );
    return prepared.entries.map((entry, i) => ({
      eventId: entry.eventId,
      event: entry.event,
      // sendEntries returns exactly one outcome per entry (unsent ones as NotSent).
      outcome: outcomes[i] as SendOutcome,
    }));
  }

  return {
    publishBatch,
    async publish(name, payload, publishOptions = {}) {
      const [result] = await publishBatch([{ ...publishOptions, event: name, payload } as BatchEntry<M>]);
      if (!result) throw new PublishError(`Not published: ${name}.`);
      if (!result.outcome.ok) {
        const { errorCode, errorMessage, attempts } = result.outcome;
        throw new PublishError(
          `The bus did not accept ${name} (eventId ${result.eventId}) after ${attempts} attempt(s): ${errorCode}: ${errorMessage}`,
          [],
          [result],
        );
      }
      return result.eventId;
    },
  };
}
