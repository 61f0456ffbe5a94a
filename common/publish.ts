/**
 * Publishing: the one path every publisher takes onto the bus (the publish API, the typed publisher and
 * CLI, and an RPC's follow-ups).
 *
 * - source: the publisher's own (`publisherSource`, common/naming.ts);
 * - eventId: UUIDv5 of (publisher, event, idempotencyKey), random without a key; a follow-up's key is its
 *   parent's eventId and its index in the handler run, so a re-run publishes the same ids;
 * - envelope `{metadata, payload}` (contracts.ts), payload validated against the event's schema;
 * - size checked as EventBridge counts it (envelope, event name and source included);
 * - PutEvents in chunks of at most 10 entries and 1 MB, FailedEntryCount checked on every answer, and only
 *   the failed entries retried, with backoff, when their error code says a retry can succeed.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { DELIVERABLE_ENTRY_BYTES, EVENTBRIDGE } from './aws-limits.ts';
import { mapWithConcurrency } from './concurrency.ts';
import { BUNDLE_DEFINES, type Envelope, type EventMetadata, SCHEMA_VERSION_KEY } from './contracts.ts';
import { publisherSource } from './naming.ts';
import { type PayloadSchema, PayloadValidator } from './payload-schema.ts';
import type { EventBusPort } from './ports.ts';
import { closestNames } from './suggest.ts';

/** One problem with a request or an entry; `field` names where it is (`entries[2].payload`). */
export interface FieldProblem {
  /** The request field, e.g. `event`, `entries[2].payload`, `body`. */
  readonly field: string;
  readonly message: string;
  /** JSON pointer into the payload, for schema violations. */
  readonly pointer?: string;
  /** Known event names closest to an unknown one. */
  readonly suggestions?: readonly string[];
}
export { publisherSource };

/**
 * Largest PutEvents entry (Detail + DetailType + Source + Resources, UTF-8 bytes) accepted: what still fits
 * the subscribers' queues once a rule wraps it (1 MiB less the wrapper), so an accepted event can always
 * be delivered.
 */
export const MAX_ENTRY_BYTES = DELIVERABLE_ENTRY_BYTES;
/** Entries one PutEvents call may carry. */
export const PUT_EVENTS_MAX_ENTRIES = EVENTBRIDGE.putEventsEntries;
/** Bytes one PutEvents call may carry in total (kept at the entry limit, so a call is never refused for size). */
export const PUT_EVENTS_MAX_BYTES = EVENTBRIDGE.entryBytes;

// ---- errors -------------------------------------------------------------------------------------------

/** The mark errors.ts's isNonRetryable looks for (a registered symbol, so no import cycle is needed). */
const NON_RETRYABLE = Symbol.for('event-router.non-retryable');

/** What happened to one entry sent to the bus. */
export type SendOutcome =
  | { readonly ok: true; readonly attempts: number }
  | {
      readonly ok: false;
      readonly attempts: number;
      readonly errorCode: string;
      readonly errorMessage: string;
      /** True when a later retry of the whole request may succeed (throttling, internal failure). */
      readonly retryable: boolean;
    };

/** What happened to one published event. */
export interface PublishResult {
  readonly eventId: string;
  readonly event: string;
  readonly outcome: SendOutcome;
}

/**
 * Why a publish did not happen: the entries' problems (nothing was sent), or the bus's answers.
 * `retryable` is false when sending the same thing again cannot succeed (invalid payload, not allowed):
 * an RPC that throws it goes to its DLQ with this message instead of being retried.
 */
export class PublishError extends Error {
  constructor(
    message: string,
    readonly problems: readonly FieldProblem[] = [],
    readonly results: readonly PublishResult[] = [],
    readonly retryable = problems.length === 0,
  ) {
    super(message);
    this.name = 'PublishError';
    if (!retryable) Object.defineProperty(this, NON_RETRYABLE, { value: true });
  }
}

// ---- ids ----------------------------------------------------------------------------------------------

/** Namespace of event-router's name-based event ids (a fixed, random UUID). */
export const EVENT_ID_NAMESPACE = '5b4f3c0e-9a7d-4f5e-8c21-6d0e7a9b1f42';

/** The UUID (version 5) of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string = EVENT_ID_NAMESPACE): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The eventId of an event: with an idempotency key, UUIDv5 of (publisher, event, key), so the same key of
 * the same publisher always gives the same id, and another publisher's key never does; else random.
 */
export function eventIdFor(publisher: string, eventName: string, idempotencyKey?: string): string {
  if (idempotencyKey === undefined) return randomUUID();
  // A newline occurs in no publisher or event name, so the triples never collide.
  return uuidV5(`${publisher}\n${eventName}\n${idempotencyKey}`);
}

/** SHA-256 of the payload's canonical JSON (keys sorted): equal for equal payloads whatever the key order. */
export function payloadHash(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

// ---- envelope and entries -----------------------------------------------------------------------------

/** One event to publish, as a publisher states it. */
export interface PublishInput {
  readonly event: string;
  readonly payload: unknown;
  /** Same key (for the same publisher and event) -> same eventId. */
  readonly idempotencyKey?: string;
  /** Defaults to the eventId (the event starts a new chain). */
  readonly correlationId?: string;
  /** eventId of the event whose handling led to this one. */
  readonly causationId?: string;
  /** ISO-8601 instant; defaults to now. */
  readonly occurredAt?: string;
}

/** Size of an entry as EventBridge counts it: UTF-8 bytes of Detail, DetailType, Source, Resources; 14 for Time. */
export function entrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time ? 14 : 0;
  for (const part of [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])])
    if (part) size += Buffer.byteLength(part, 'utf8');
  return size;
}

/** Who publishes and where: the same for every entry of one publish. */
export interface PrepareContext {
  /** The declared publisher: an external publisher's name or the RPC id (`metadata.publisher`). */
  readonly publisher: string;
  /** Its EventBridge source. */
  readonly source: string;
  readonly busName: string;
  readonly validator: PayloadValidator;
  /** Event name -> schema version; 1 when absent. */
  readonly schemaVersions: Readonly<Record<string, number>>;
  readonly now?: () => Date;
}

/** An entry ready to send. */
export interface PreparedEntry {
  readonly event: string;
  readonly eventId: string;
  readonly envelope: Envelope;
  readonly entry: PutEventsRequestEntry;
}

export interface PrepareResult {
  readonly entries: readonly PreparedEntry[];
  readonly problems: readonly FieldProblem[];
  /** True when the only problems are entries over the size limit (answer 413). */
  readonly onlyTooLarge: boolean;
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
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

/**
 * Checks and builds every entry: known event, payload against its schema, envelope, size. `problems`
 * lists everything wrong with any of them (then nothing should be sent). An input may carry a fixed
 * `eventId` (a replayed receipt) instead of deriving it.
 */
export function prepareEntries(
  inputs: readonly {
    readonly input: PublishInput;
    readonly field: string;
    readonly eventId?: string;
  }[],
  context: PrepareContext,
): PrepareResult {
  const problems: FieldProblem[] = [];
  let tooLarge = 0;
  const entries: PreparedEntry[] = [];
  for (const { input, field, eventId: fixedId } of inputs) {
    if (!context.validator.has(input.event)) {
      const suggestions = closestNames(input.event, context.validator.eventNames);
      problems.push({
        field: join(field, 'event'),
        message: `"${input.event}" is not an event of this router.${
          suggestions.length > 0
            ? ` Closest known events: ${suggestions.join(', ')}.`
            : ' The router declares no events.'
        }`,
        suggestions,
      });
      continue;
    }
    const violations = context.validator.validate(input.event, input.payload);
    for (const violation of violations)
      problems.push({
        field: join(field, 'payload'),
        pointer: violation.pointer,
        message: `${violation.pointer || '(payload)'} ${violation.message}`,
      });
    if (violations.length > 0) continue;
    const eventId = fixedId ?? eventIdFor(context.publisher, input.event, input.idempotencyKey);
    const metadata: EventMetadata = {
      eventId,
      occurredAt: input.occurredAt ?? (context.now?.() ?? new Date()).toISOString(),
      correlationId: input.correlationId ?? eventId,
      ...(input.causationId !== undefined ? { causationId: input.causationId } : {}),
      publisher: context.publisher,
      schemaVersion: context.schemaVersions[input.event] ?? 1,
    };
    const envelope: Envelope = { metadata, payload: input.payload };
    const entry = toPutEventsEntry(input.event, envelope, context);
    const size = entrySize(entry);
    if (size > MAX_ENTRY_BYTES) {
      tooLarge++;
      problems.push({
        field: field || 'payload',
        message: `is ${size} bytes as an EventBridge entry (envelope + event name + source); the limit is ${MAX_ENTRY_BYTES} bytes (1 MiB less what a rule adds on the way to a subscriber's queue). Store large content elsewhere and publish a reference to it.`,
      });
      continue;
    }
    entries.push({ event: input.event, eventId, envelope, entry });
  }
  return { entries, problems, onlyTooLarge: tooLarge > 0 && tooLarge === problems.length };
}

// ---- sending ------------------------------------------------------------------------------------------

export interface SendOptions {
  /** Sends per entry, the first included. @default 3 */
  readonly maxAttempts?: number;
  /** Delay before the first retry; doubles each time, with jitter. @default 100 */
  readonly baseDelayMs?: number;
  /** PutEvents calls in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Waits between attempts (tests pass an instant one). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Entry error codes that no retry can fix (the entry or the caller's rights are wrong). */
const PERMANENT_CODES = new Set([
  'MalformedDetail',
  'InvalidArgument',
  'ValidationException',
  'AccessDeniedException',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
  'ResourceNotFoundException',
]);

/** True when an entry that failed with `code` may succeed when sent again. */
export function isRetryableCode(code: string): boolean {
  return !PERMANENT_CODES.has(code);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The bus port of an SDK EventBridge client. */
export function busOf(client: EventBridgeClient): EventBusPort {
  return { putEvents: (input) => client.send(new PutEventsCommand(input)) };
}

/** Splits entry indexes into PutEvents calls of at most 10 entries and 1 MB. */
export function chunkEntries(
  entries: readonly PutEventsRequestEntry[],
  indexes: readonly number[],
): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const index of indexes) {
    const entry = entries[index];
    if (!entry) continue;
    const size = entrySize(entry);
    if (
      current.length === PUT_EVENTS_MAX_ENTRIES ||
      (current.length > 0 && bytes + size > PUT_EVENTS_MAX_BYTES)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Sends every entry; the outcome at index i belongs to entry i. Never throws for an AWS error: a call
 * that fails as a whole (after the SDK's own retries) fails each of its entries with the error's name.
 */
export async function sendEntries(
  bus: EventBusPort,
  entries: readonly PutEventsRequestEntry[],
  options: SendOptions = {},
): Promise<SendOutcome[]> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const baseDelayMs = options.baseDelayMs ?? 100;
  const sleep = options.sleep ?? defaultSleep;
  const outcomes: SendOutcome[] = entries.map(() => ({
    ok: false,
    attempts: 0,
    errorCode: 'NotSent',
    errorMessage: 'The entry was not sent.',
    retryable: true,
  }));
  let pending = entries.map((_, i) => i);
  for (let attempt = 1; attempt <= maxAttempts && pending.length > 0; attempt++) {
    if (attempt > 1) {
      const cap = baseDelayMs * 2 ** (attempt - 2);
      await sleep(cap / 2 + Math.random() * (cap / 2));
    }
    const retry: number[] = [];
    await mapWithConcurrency(chunkEntries(entries, pending), options.concurrency ?? 4, async (chunk) => {
      retry.push(...(await sendChunk(bus, entries, chunk, attempt, outcomes)));
    });
    pending = retry.sort((a, b) => a - b);
  }
  return outcomes;
}

/** One PutEvents call; records outcomes and returns the indexes worth retrying. */
async function sendChunk(
  bus: EventBusPort,
  entries: readonly PutEventsRequestEntry[],
  chunk: readonly number[],
  attempt: number,
  outcomes: SendOutcome[],
): Promise<number[]> {
  try {
    const response = await bus.putEvents({
      Entries: chunk.map((index) => entries[index] as PutEventsRequestEntry),
    });
    const results = response.Entries ?? [];
    const failedCount = response.FailedEntryCount ?? 0;
    const retry: number[] = [];
    chunk.forEach((index, position) => {
      const result = results[position];
      if (result?.ErrorCode || (!result?.EventId && failedCount > 0) || !result) {
        const errorCode = result?.ErrorCode ?? 'MissingResult';
        const retryable = isRetryableCode(errorCode);
        outcomes[index] = {
          ok: false,
          attempts: attempt,
          errorCode,
          errorMessage: result?.ErrorMessage ?? 'EventBridge returned no result for this entry.',
          retryable,
        };
        if (retryable) retry.push(index);
      } else outcomes[index] = { ok: true, attempts: attempt };
    });
    return retry;
  } catch (error) {
    const err = error as Error & { $metadata?: { httpStatusCode?: number } };
    const status = err.$metadata?.httpStatusCode;
    // The SDK already retried throttling and 5xx answers; another round may still help, a 4xx will not.
    const retryable = status === undefined || status >= 500 || status === 429 || err.name.includes('Throttl');
    for (const index of chunk)
      outcomes[index] = {
        ok: false,
        attempts: attempt,
        errorCode: err.name,
        errorMessage: err.message,
        retryable,
      };
    return retryable ? [...chunk] : [];
  }
}

// ---- schemas compiled into a bundle -------------------------------------------------------------------

/** Schemas with their `x-schema-version` split off: a validator and the versions. */
export function catalogOf(raw: Readonly<Record<string, unknown>>): {
  readonly schemas: Record<string, PayloadSchema>;
  readonly schemaVersions: Record<string, number>;
} {
  const schemas: Record<string, PayloadSchema> = {};
  const schemaVersions: Record<string, number> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error(`The schema of "${name}" must be a JSON object.`);
    const { [SCHEMA_VERSION_KEY]: version, ...schema } = value as Record<string, unknown>;
    schemas[name] = schema;
    schemaVersions[name] = typeof version === 'number' ? version : 1;
  }
  return { schemas, schemaVersions };
}

declare const ER_PUBLISHED_SCHEMAS: string | undefined;

type Catalog = {
  readonly validator: PayloadValidator;
  readonly schemaVersions: Readonly<Record<string, number>>;
};
let cachedCatalog: { readonly text: string; readonly catalog: Catalog } | undefined;

/**
 * The follow-up schemas of this worker (bundle constant, else the environment variable of the same name);
 * undefined when neither is set. Compiled once per text.
 */
function publishedCatalog(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Catalog | undefined {
  const text =
    typeof ER_PUBLISHED_SCHEMAS !== 'undefined' ? ER_PUBLISHED_SCHEMAS : env[BUNDLE_DEFINES.publishedSchemas];
  if (!text) return undefined;
  if (cachedCatalog?.text !== text) {
    const { schemas, schemaVersions } = catalogOf(JSON.parse(text) as Record<string, unknown>);
    cachedCatalog = { text, catalog: { validator: new PayloadValidator(schemas), schemaVersions } };
  }
  return cachedCatalog.catalog;
}

// ---- follow-ups from inside an RPC --------------------------------------------------------------------

export interface PublishParent {
  readonly eventId: string;
  readonly correlationId: string;
  /** `Service/Method` of the publishing RPC: the publisher. */
  readonly rpc: string;
  /** Application name (first part of the source). */
  readonly app?: string;
}

export interface PublisherOptions {
  readonly bus: EventBusPort;
  /** Undefined: publishing fails with an error that says the RPC declares no `publishes`. */
  readonly busName: string | undefined;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Schema version of a published event when the compiled follow-up schemas do not say. */
  readonly schemaVersionOf: (eventName: string) => number;
  /**
   * Schemas of the events this RPC may publish, with their versions.
   * @default - the bundle's ER_PUBLISHED_SCHEMAS (environment variable of that name in tests); when
   *   neither is set, payloads are not validated here
   */
  readonly catalog?: Catalog;
}

/**
 * A publish function bound to one handler run; each call gets the next index. The follow-up is checked
 * against its schema before it is sent: a follow-up that breaks it (or that the RPC does not declare)
 * fails the handler with a non-retryable PublishError naming the problem, so the delivery goes to the DLQ
 * with the reason instead of every subscriber refusing the event later.
 */
export function createPublisher(
  parent: PublishParent,
  options: PublisherOptions,
): (eventName: string, payload: unknown) => Promise<string> {
  let index = 0;
  return async (eventName, payload) => {
    const key = `${parent.eventId}#${index++}`;
    if (!options.busName)
      throw new PublishError(
        `${parent.rpc} published "${eventName}" but has no event bus configured (ER_EVENT_BUS). ` +
          `List the event under "publishes:" of ${parent.rpc} in event-router.yaml.`,
      );
    const catalog = options.catalog ?? publishedCatalog();
    if (catalog && !catalog.validator.has(eventName))
      throw new PublishError(
        `${parent.rpc} published "${eventName}", which it does not declare: list it under "publishes:" of ${parent.rpc} in event-router.yaml (and name ${parent.rpc} in the event's publisher).`,
        [{ field: 'event', message: `"${eventName}" is not under "publishes:" of ${parent.rpc}` }],
      );
    const validator = catalog?.validator ?? new PayloadValidator({ [eventName]: {} });
    const prepared = prepareEntries(
      [
        {
          input: {
            event: eventName,
            payload,
            idempotencyKey: key,
            correlationId: parent.correlationId,
            causationId: parent.eventId,
          },
          field: '',
        },
      ],
      {
        publisher: parent.rpc,
        source: publisherSource(parent.app ?? '', parent.rpc),
        busName: options.busName,
        validator,
        schemaVersions: {
          [eventName]: catalog?.schemaVersions[eventName] ?? options.schemaVersionOf(eventName),
        },
        now: () => new Date(options.now()),
      },
    );
    if (prepared.problems.length > 0)
      throw new PublishError(
        `Follow-up "${eventName}" of ${parent.rpc} was not published: ${prepared.problems.map((p) => `${p.field} ${p.message}`).join('; ')}.`,
        prepared.problems,
      );
    const [entry] = prepared.entries as [PreparedEntry];
    const [outcome] = (await sendEntries(options.bus, [entry.entry], { sleep: options.sleep })) as [
      SendOutcome,
    ];
    if (!outcome.ok)
      throw new PublishError(
        `EventBridge rejected follow-up event "${eventName}" on bus "${options.busName}" after ${outcome.attempts} attempt(s) ` +
          `(last: ${outcome.errorCode}: ${outcome.errorMessage})${outcome.retryable ? '; the delivery will be retried' : ''}.`,
        [],
        [{ eventId: entry.eventId, event: eventName, outcome }],
        outcome.retryable,
      );
    return entry.eventId;
  };
}
