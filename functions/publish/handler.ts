/**
 * The publish API function (API Gateway REST, Lambda proxy integration):
 * - `POST /events`: one event `{event, payload, idempotencyKey?, correlationId?, causationId?, occurredAt?}`
 *   or `{entries: [...]}` (at most 100). Every entry is validated before anything is sent; a bad request
 *   publishes nothing (400, or 413 when the only problem is an entry over 1 MB). Then PutEvents in chunks
 *   of 10, failed entries retried with backoff. Answers 202 with `{eventId, event, status}` per entry
 *   (`status` ACCEPTED or FAILED with the error) as soon as at least one entry was accepted; when none
 *   was, 503 (+ Retry-After) if a retry may succeed (throttling, internal failure), else 502. Retrying a
 *   batch with the same idempotency keys republishes the same eventIds, deduplicated downstream.
 * - `GET /events/{eventId}[?event=<name>]`: the delivery status per subscribed RPC, 404 when unknown.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { PayloadValidator } from '../commons/payload-schema.ts';
import { callerOf } from './caller.ts';
import { loadPublishConfig, type PublishConfig } from './config.ts';
import { json, problemResponse } from './http.ts';
import { prepareEntries } from './prepare.ts';
import { type SendOptions, sendEntries } from './put-events.ts';
import { decodeBody, parseRequest } from './request.ts';
import { buildStatus, queryDeliveries } from './status.ts';

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

/** One entry's answer. */
export type EntryResult =
  | { readonly eventId: string; readonly event: string; readonly status: 'ACCEPTED' }
  | {
      readonly eventId: string;
      readonly event: string;
      readonly status: 'FAILED';
      readonly error: { readonly code: string; readonly message: string; readonly retryable: boolean };
    };

/** Builds dependencies from the environment (the Lambda default). */
export function defaultDependencies(config: PublishConfig = loadPublishConfig()): PublishDependencies {
  return {
    config,
    eventBridge: new EventBridgeClient({}),
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    validator: new PayloadValidator(config.schemas),
    logger: new Logger({ serviceName: 'publish-api' }),
  };
}

function notConfigured(what: string, variable: string): APIGatewayProxyResult {
  return json(500, { message: `The publish function is not configured: ${what} (${variable} is not set).` });
}

async function publish(
  event: APIGatewayProxyEvent,
  deps: PublishDependencies,
): Promise<APIGatewayProxyResult> {
  const { config } = deps;
  if (!config.eventBus) return notConfigured('no event bus', 'ER_EVENT_BUS');
  const parsed = parseRequest(decodeBody(event.body, event.isBase64Encoded));
  if (!parsed.request) return problemResponse(400, parsed.problems);
  const prepared = prepareEntries(parsed.request.entries, {
    validator: deps.validator,
    schemaVersions: config.schemaVersions,
    publisher: callerOf(event.requestContext),
    busName: config.eventBus,
    source: config.source,
    ...(deps.now ? { now: deps.now } : {}),
  });
  if (prepared.problems.length > 0)
    return problemResponse(prepared.onlyTooLarge ? 413 : 400, prepared.problems);

  const outcomes = await sendEntries(
    deps.eventBridge,
    prepared.entries.map((entry) => entry.entry),
    deps.send,
  );
  const results: EntryResult[] = prepared.entries.map((entry, i) => {
    const outcome = outcomes[i];
    if (outcome?.ok) return { eventId: entry.eventId, event: entry.event, status: 'ACCEPTED' };
    return {
      eventId: entry.eventId,
      event: entry.event,
      status: 'FAILED',
      error: {
        code: outcome?.errorCode ?? 'NotSent',
        message: outcome?.errorMessage ?? 'The entry was not sent.',
        retryable: outcome?.retryable ?? true,
      },
    };
  });
  const failed = results.filter((result) => result.status === 'FAILED');
  if (failed.length > 0)
    deps.logger.warn('Some events were not accepted by the bus', {
      failed: failed.length,
      total: results.length,
      codes: [...new Set(failed.map((result) => (result.status === 'FAILED' ? result.error.code : '')))],
    });
  deps.logger.info('Published', { accepted: results.length - failed.length, failed: failed.length });

  const body = parsed.request.batch ? { failedCount: failed.length, entries: results } : results[0];
  if (failed.length < results.length) return json(202, body);
  const retryable = failed.some((result) => result.status === 'FAILED' && result.error.retryable);
  return retryable ? json(503, body, { 'retry-after': '1' }) : json(502, body);
}

async function status(
  event: APIGatewayProxyEvent,
  deps: PublishDependencies,
  eventId: string,
): Promise<APIGatewayProxyResult> {
  const { config } = deps;
  if (!config.deliveriesTable) return notConfigured('no deliveries table', 'ER_DELIVERIES_TABLE');
  if (!eventId || eventId.length > 256)
    return problemResponse(400, [
      { field: 'eventId', message: 'must be an event id of 1 to 256 characters' },
    ]);
  const hint = event.queryStringParameters?.event || undefined;
  if (hint !== undefined && !Object.hasOwn(config.subscriptions, hint) && !deps.validator.has(hint))
    return problemResponse(400, [{ field: 'event', message: `"${hint}" is not an event of this router.` }]);
  const records = await queryDeliveries(deps.dynamo, config.deliveriesTable, eventId);
  const result = buildStatus(eventId, records, {
    subscriptions: config.subscriptions,
    filtered: config.filtered,
    ...(hint !== undefined ? { eventHint: hint } : {}),
    now: (deps.now?.() ?? new Date()).getTime(),
  });
  if (!result)
    return json(404, {
      message: `No event ${eventId} is known: no RPC has received it yet. If it was just published, retry shortly, or pass ?event=<name> to list its subscribers as PENDING.`,
      errors: [{ field: 'eventId', message: 'is unknown' }],
    });
  return json(200, result);
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
