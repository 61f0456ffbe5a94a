/**
 * The publish API function (API Gateway REST, Lambda proxy integration):
 * - `POST /events`: one event `{event, payload, idempotencyKey?, correlationId?, causationId?, occurredAt?}`
 *   or `{entries: [...]}` (at most 100). The caller is mapped to a declared publisher (publishers.ts); an
 *   entry for an event that publisher may not publish refuses the request with 403 naming the event and
 *   the publisher. Every entry is validated before anything is sent; a bad request publishes nothing (400,
 *   or 413 when the only problem is an entry over 1 MB). Each entry's eventId is UUIDv5 of (publisher,
 *   event, idempotencyKey) and gets a publish receipt (receipts.ts, one conditional write): the same key
 *   with the same payload answers the original eventId with `replayed: true` (and sends the original
 *   envelope again, deduplicated downstream); with another payload the entry is a CONFLICT (409 when no
 *   entry was accepted). Then PutEvents under the publisher's source, in chunks of 10, failed entries
 *   retried with backoff. Answers 202 with `{eventId, event, status}` per entry as soon as at least one
 *   entry was accepted; when none was, 409 for conflicts only, else 503 (+ Retry-After) if a retry may
 *   succeed, else 502.
 * - `GET /events/{eventId}[?event=<name>]`: the delivery status per subscribed RPC, only to the publisher
 *   that published the event (its receipt says who); anyone else gets 404, as for an unknown id.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { MAX_ID_CHARS } from '../../common/aws-limits.ts';
import { mapWithConcurrency } from '../../common/concurrency.ts';
import { PayloadValidator } from '../../common/payload-schema.ts';
import {
  busOf,
  type PreparedEntry,
  payloadHash,
  prepareEntries,
  type SendOptions,
  type SendOutcome,
  sendEntries,
} from '../../common/publish.ts';
import { authorize, identifyCaller } from '../../common/publishers.ts';
import {
  markNotSent,
  type NotSent,
  type PublishReceipt,
  RECEIPT_SORT_KEY,
  recordReceipt,
} from '../../common/receipts.ts';
import { buildStatus, queryEvent, withReceipt } from '../../common/status.ts';
import { loadPublishConfig, type PublishConfig } from './config.ts';
import { json, problemResponse } from './http.ts';
import { decodeBody, type FieldProblem, parseRequest } from './request.ts';

/** What the handler works with; tests build their own. */
export interface PublishDependencies {
  readonly config: PublishConfig;
  readonly eventBridge: EventBridgeClient;
  readonly dynamo: DynamoDBDocumentClient;
  readonly validator: PayloadValidator;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly send?: SendOptions;
  readonly now?: () => Date;
}

/** One entry's answer. `replayed`: the same key and payload were published before; this is that event. */
export type EntryResult =
  | {
      readonly eventId: string;
      readonly event: string;
      readonly status: 'ACCEPTED';
      readonly replayed?: true;
    }
  | {
      readonly eventId: string;
      readonly event: string;
      readonly status: 'CONFLICT';
      readonly error: { readonly code: 'IdempotencyKeyReused'; readonly message: string };
    }
  | {
      readonly eventId: string;
      readonly event: string;
      readonly status: 'FAILED';
      readonly replayed?: true;
      readonly error: { readonly code: string; readonly message: string; readonly retryable: boolean };
    };

/** Builds dependencies from the environment (the Lambda default). */
export function defaultDependencies(config: PublishConfig = loadPublishConfig()): PublishDependencies {
  return {
    config,
    // PutEvents on every request: its middleware resolved once (the document client below cannot).
    eventBridge: new EventBridgeClient({ cacheMiddleware: true }),
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    validator: new PayloadValidator(config.schemas),
    logger: new Logger({ serviceName: 'publish-api' }),
  };
}

function notConfigured(what: string, variable: string): APIGatewayProxyResult {
  return json(500, { message: `The publish function is not configured: ${what} (${variable} is not set).` });
}

/** Receipt writes in flight at once for one request. */
const RECEIPT_CONCURRENCY = 8;

async function publish(
  event: APIGatewayProxyEvent,
  deps: PublishDependencies,
): Promise<APIGatewayProxyResult> {
  const { config } = deps;
  if (!config.eventBus) return notConfigured('no event bus', 'ER_EVENT_BUS');
  if (!config.deliveriesTable) return notConfigured('no deliveries table', 'ER_DELIVERIES_TABLE');
  const parsed = parseRequest(decodeBody(event.body, event.isBase64Encoded));
  if (!parsed.request) return problemResponse(400, parsed.problems);

  // Who may publish what: every entry is authorized before anything is written or sent.
  const caller = identifyCaller(event.requestContext, config.publishers);
  const refused: FieldProblem[] = [];
  const authorized = parsed.request.entries.map((entry) => {
    const decision = deps.validator.has(entry.input.event)
      ? authorize(caller, entry.input.event, config.publishers)
      : undefined; // unknown events are reported by prepareEntries (400)
    if (decision && !decision.ok)
      refused.push({ field: entry.field ? `${entry.field}.event` : 'event', message: decision.message });
    return { ...entry, publisher: decision?.ok ? decision.publisher : undefined };
  });
  if (refused.length > 0) {
    deps.logger.warn('Publish refused', { caller: caller.description, refused: refused.length });
    return problemResponse(403, refused);
  }

  // Validation, ids, envelope and size, each entry under the publisher it is published as.
  const now = deps.now?.() ?? new Date();
  const prepared: { entry: PreparedEntry; publisher: string; idempotencyKey?: string }[] = [];
  const problems: FieldProblem[] = [];
  let tooLarge = 0;
  for (const item of authorized) {
    const name = item.publisher?.name ?? '';
    const result = prepareEntries([item], {
      publisher: name,
      source: item.publisher?.source ?? '',
      busName: config.eventBus,
      validator: deps.validator,
      schemaVersions: config.schemaVersions,
      now: () => now,
    });
    problems.push(...result.problems);
    if (result.onlyTooLarge) tooLarge += result.problems.length;
    for (const entry of result.entries)
      prepared.push({
        entry,
        publisher: name,
        ...(item.input.idempotencyKey !== undefined ? { idempotencyKey: item.input.idempotencyKey } : {}),
      });
  }
  if (problems.length > 0) return problemResponse(tooLarge === problems.length ? 413 : 400, problems);

  // Receipts: one conditional write each; a replay sends the original envelope, a conflict sends nothing.
  const results: (EntryResult | undefined)[] = prepared.map(() => undefined);
  const toSend: { position: number; entry: PreparedEntry; replayed: boolean; receipt: PublishReceipt }[] = [];
  await mapWithConcurrency(prepared, RECEIPT_CONCURRENCY, async (item, position) => {
    const receipt = receiptOf(
      item.entry,
      item.publisher,
      item.idempotencyKey,
      now,
      config.recordRetentionSeconds,
    );
    const outcome = await recordReceipt(deps.dynamo, config.deliveriesTable as string, receipt);
    if (outcome.kind === 'conflict') {
      results[position] = {
        eventId: item.entry.eventId,
        event: item.entry.event,
        status: 'CONFLICT',
        error: {
          code: 'IdempotencyKeyReused',
          message: `idempotencyKey ${JSON.stringify(item.idempotencyKey ?? '')} was already used by ${outcome.original.publisher} for "${item.entry.event}" with a different payload (eventId ${item.entry.eventId}, published ${outcome.original.occurredAt}). Use a new key for a new event.`,
        },
      };
      return;
    }
    const entry = outcome.kind === 'replay' ? replayOf(item.entry, outcome.original) : item.entry;
    toSend.push({
      position,
      entry,
      replayed: outcome.kind === 'replay',
      receipt: outcome.kind === 'replay' ? outcome.original : receipt,
    });
  });
  toSend.sort((a, b) => a.position - b.position);

  const outcomes = await sendEntries(
    busOf(deps.eventBridge),
    toSend.map((item) => item.entry.entry),
    deps.send,
  );
  toSend.forEach((item, i) => {
    const outcome = outcomes[i];
    const base = {
      eventId: item.entry.eventId,
      event: item.entry.event,
      ...(item.replayed ? { replayed: true as const } : {}),
    };
    results[item.position] = outcome?.ok
      ? { ...base, status: 'ACCEPTED' }
      : {
          ...base,
          status: 'FAILED',
          error: {
            code: outcome?.errorCode ?? 'NotSent',
            message: outcome?.errorMessage ?? 'The entry was not sent.',
            retryable: outcome?.retryable ?? true,
          },
        };
  });
  await noteWhatWasNotSent(deps, toSend, outcomes, now);
  const answered = results as EntryResult[];
  const failed = answered.filter((result) => result.status === 'FAILED');
  const conflicts = answered.filter((result) => result.status === 'CONFLICT');
  if (failed.length > 0)
    deps.logger.warn('Some events were not accepted by the bus', {
      failed: failed.length,
      total: answered.length,
      codes: [...new Set(failed.map((result) => (result.status === 'FAILED' ? result.error.code : '')))],
    });
  deps.logger.info('Published', {
    publisher: caller.description,
    accepted: answered.length - failed.length - conflicts.length,
    failed: failed.length,
    conflicts: conflicts.length,
  });

  const notAccepted = failed.length + conflicts.length;
  const body = parsed.request.batch ? { failedCount: notAccepted, entries: answered } : answered[0];
  if (notAccepted < answered.length) return json(202, body);
  if (failed.length === 0) {
    const first = conflicts[0];
    const message = first?.status === 'CONFLICT' ? first.error.message : 'Idempotency key reused.';
    return json(409, { message, ...(parsed.request.batch ? body : { ...answered[0] }) });
  }
  const retryable = failed.some((result) => result.status === 'FAILED' && result.error.retryable);
  return retryable ? json(503, body, { 'retry-after': '1' }) : json(502, body);
}

function receiptOf(
  entry: PreparedEntry,
  publisher: string,
  idempotencyKey: string | undefined,
  now: Date,
  retentionSeconds: number,
): PublishReceipt {
  const { metadata, payload } = entry.envelope;
  return {
    eventId: entry.eventId,
    rpc: RECEIPT_SORT_KEY,
    eventName: entry.event,
    publisher,
    payloadHash: payloadHash(payload),
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    occurredAt: metadata.occurredAt,
    correlationId: metadata.correlationId,
    ...(metadata.causationId !== undefined ? { causationId: metadata.causationId } : {}),
    publishedAt: now.getTime(),
    expiresAt: Math.floor(now.getTime() / 1000) + retentionSeconds,
  };
}

/** The entry as first published: the receipt's occurredAt and correlation, so the replay is the same event. */
function replayOf(entry: PreparedEntry, original: PublishReceipt): PreparedEntry {
  const { causationId: _ignored, ...metadata } = entry.envelope.metadata;
  const envelope = {
    metadata: {
      ...metadata,
      occurredAt: original.occurredAt,
      correlationId: original.correlationId,
      ...(original.causationId !== undefined ? { causationId: original.causationId } : {}),
    },
    payload: entry.envelope.payload,
  };
  return { ...entry, envelope, entry: { ...entry.entry, Detail: JSON.stringify(envelope) } };
}

async function status(
  event: APIGatewayProxyEvent,
  deps: PublishDependencies,
  eventId: string,
): Promise<APIGatewayProxyResult> {
  const { config } = deps;
  if (!config.deliveriesTable) return notConfigured('no deliveries table', 'ER_DELIVERIES_TABLE');
  if (!eventId || eventId.length > MAX_ID_CHARS)
    return problemResponse(400, [
      { field: 'eventId', message: `must be an event id of 1 to ${MAX_ID_CHARS} characters` },
    ]);
  const hint = event.queryStringParameters?.event || undefined;
  if (hint !== undefined && !Object.hasOwn(config.subscriptions, hint) && !deps.validator.has(hint))
    return problemResponse(400, [{ field: 'event', message: `"${hint}" is not an event of this router.` }]);
  const unknown = json(404, {
    message: `No event ${eventId} published by you is known: only its publisher may read its status. Check the eventId your publish answered with; ops read any event with \`event-router status\`, or locally pass ?event=<name> to list its subscribers as PENDING.`,
    errors: [{ field: 'eventId', message: 'is unknown' }],
  });
  const caller = identifyCaller(event.requestContext, config.publishers);
  const { records, receipt } = await queryEvent(deps.dynamo, config.deliveriesTable, eventId);
  // Private: only the publisher that published it (its receipt says who) may read it; locally, a request
  // that names no publisher may read every event. Everyone else learns nothing, not even that it exists.
  const mayRead =
    caller.localDefault || (receipt !== undefined && receipt.publisher === caller.publisher?.name);
  if (!mayRead) return unknown;
  const eventHint = receipt?.eventName ?? hint;
  const result = buildStatus(eventId, records, {
    subscriptions: config.subscriptions,
    filtered: config.filtered,
    ...(eventHint !== undefined ? { eventHint } : {}),
    now: (deps.now?.() ?? new Date()).getTime(),
  });
  if (!result) return unknown;
  return json(200, withReceipt(result, receipt));
}

/** The eventId of `GET /events/{eventId}`: the path parameter, else the last path segment (decoded). */
function eventIdOf(event: APIGatewayProxyEvent): string {
  const fromParameters = event.pathParameters?.eventId;
  if (fromParameters) return fromParameters;
  const segment = /\/events\/([^/]+)\/?$/.exec(event.path ?? '')?.[1] ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Routes one API Gateway proxy event (by resource when the gateway gives it, else by path). */
export async function route(
  event: APIGatewayProxyEvent,
  deps: PublishDependencies,
): Promise<APIGatewayProxyResult> {
  const method = event.httpMethod?.toUpperCase();
  const path = (event.path ?? '').replace(/\/+$/, '');
  const isCollection = event.resource === '/events' || (!event.resource && path === '/events');
  const isItem =
    event.resource === '/events/{eventId}' || (!event.resource && /^\/events\/[^/]+$/.test(path));
  if (isCollection) {
    if (method === 'POST') return publish(event, deps);
    return json(405, { message: `${method} /events is not supported; use POST.` }, { allow: 'POST' });
  }
  if (isItem) {
    if (method === 'GET') return status(event, deps, eventIdOf(event));
    return json(405, { message: `${method} /events/{eventId} is not supported; use GET.` }, { allow: 'GET' });
  }
  return json(404, {
    message: `No route for ${method} ${event.path}. Use POST /events or GET /events/{eventId}.`,
  });
}

/** Wraps `route` so an unexpected error answers 500 without leaking internals. */
export function createHandler(getDeps: () => PublishDependencies) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const deps = getDeps();
    try {
      return await route(event, deps);
    } catch (error) {
      deps.logger.error('Unexpected error', {
        error: error as Error,
        path: event.path,
        method: event.httpMethod,
      });
      return json(500, { message: 'The publish API failed unexpectedly; the error is logged. Retry later.' });
    }
  };
}

let cached: PublishDependencies | undefined;

/** The Lambda entry point. */
export const handler = createHandler(() => {
  cached ??= defaultDependencies();
  return cached;
});

/**
 * Keeps on each receipt whether its event reached the bus: an entry the bus did not accept is marked
 * (its status then says so), and a retry that got it there clears the mark. Best effort: the answer
 * already tells the caller what happened, so a failed mark is logged, never turned into an error.
 */
async function noteWhatWasNotSent(
  deps: PublishDependencies,
  sent: readonly { readonly receipt: PublishReceipt }[],
  outcomes: readonly (SendOutcome | undefined)[],
  now: Date,
): Promise<void> {
  const table = deps.config.deliveriesTable as string;
  const marks = sent.flatMap(({ receipt }, i): { receipt: PublishReceipt; notSent?: NotSent }[] => {
    const outcome = outcomes[i];
    if (outcome?.ok) return receipt.notSent ? [{ receipt }] : [];
    const notSent: NotSent = {
      at: now.getTime(),
      code: outcome?.errorCode ?? 'NotSent',
      message: outcome?.errorMessage ?? 'The entry was not sent.',
      retryable: outcome?.retryable ?? true,
    };
    return [{ receipt, notSent }];
  });
  await mapWithConcurrency(marks, RECEIPT_CONCURRENCY, async ({ receipt, notSent }) => {
    try {
      await markNotSent(deps.dynamo, table, receipt, notSent);
    } catch (error) {
      deps.logger.warn('Could not record on the receipt whether the event reached the bus', {
        eventId: receipt.eventId,
        error: (error as Error).message,
      });
    }
  });
}
