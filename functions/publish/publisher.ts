/**
 * A publisher for services and RPC handlers: `publish(name, payload, options)` validates the payload
 * against the event's schema, wraps it in the same envelope as the publish API, sends it with PutEvents
 * (FailedEntryCount checked, failed entries retried with backoff) and returns the eventId.
 *
 * Typed through an event map (`EventPayloads` from `generated/events.ts`), so a payload that does not
 * match its event does not compile. `generated/publisher.ts` binds it to the router's events.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE_PREFIX } from '../commons/contracts.ts';
import { type PayloadSchema, PayloadValidator } from '../commons/payload-schema.ts';
import type { PublishInput } from './envelope.ts';
import { prepareEntries } from './prepare.ts';
import { type SendOptions, type SendOutcome, sendEntries } from './put-events.ts';
import type { FieldProblem } from './request.ts';

/** Per-event options of a publish. */
export interface PublishOptions {
  /** Same key (for the same event) -> same eventId, so a retry is deduplicated downstream. */
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
  /**
   * EventBridge `source`; also `metadata.publisher` unless `publisher` is given.
   * @default 'event-router'
   */
  readonly source?: string;
  /** @default - the source */
  readonly publisher?: string;
  /** @default - a new EventBridgeClient with the default configuration */
  readonly client?: EventBridgeClient;
  /** Retry and backoff of failed entries. */
  readonly send?: SendOptions;
}

/** One entry of `publishBatch`: an event name with the payload its type requires. */
export type BatchEntry<M> = {
  [N in keyof M & string]: { readonly event: N; readonly payload: M[N] } & PublishOptions;
}[keyof M & string];

/** What happened to one published event. */
export interface PublishResult {
  readonly eventId: string;
  readonly event: string;
  readonly outcome: SendOutcome;
}

export interface Publisher<M> {
  /** Publishes one event; resolves to its eventId. Throws PublishError when it is invalid or was not accepted. */
  publish<N extends keyof M & string>(name: N, payload: M[N], options?: PublishOptions): Promise<string>;
  /**
   * Publishes many events (any number: sent 10 per PutEvents call). Throws PublishError if any entry is
   * invalid (then nothing is sent); otherwise resolves to one result per entry, accepted or not.
   */
  publishBatch(entries: readonly BatchEntry<M>[]): Promise<PublishResult[]>;
}

/** Why a publish did not happen: the entries' problems, or the bus's answers. */
export class PublishError extends Error {
  constructor(
    message: string,
    readonly problems: readonly FieldProblem[] = [],
    readonly results: readonly PublishResult[] = [],
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

/** The schemas a publisher validates against. */
export interface EventCatalog<M> {
  readonly schemas: { readonly [N in keyof M]: object };
  readonly schemaVersions: { readonly [N in keyof M]: number };
}

/** A publisher for the events of `catalog`. */
export function createEventPublisher<M>(catalog: EventCatalog<M>, options: PublisherOptions): Publisher<M> {
  const validator = new PayloadValidator(catalog.schemas as unknown as Record<string, PayloadSchema>);
  const client = options.client ?? new EventBridgeClient({});
  const source = options.source ?? EVENT_SOURCE_PREFIX;
  const schemaVersions = catalog.schemaVersions as unknown as Record<string, number>;

  async function publishBatch(entries: readonly BatchEntry<M>[]): Promise<PublishResult[]> {
    const inputs = entries.map((entry, i) => ({ input: entry as PublishInput, field: `entries[${i}]` }));
    const prepared = prepareEntries(inputs, {
      validator,
      schemaVersions,
      publisher: options.publisher ?? source,
      busName: options.busName,
      source,
    });
    if (prepared.problems.length > 0)
      throw new PublishError(
        `Not published: ${prepared.problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
        prepared.problems,
      );
    const outcomes = await sendEntries(
      client,
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
