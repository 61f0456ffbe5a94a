/**
 * Reading a `POST /events` body: one event `{event, payload, ...}` or a batch `{entries: [...]}`.
 * Every problem names the field it is about (`entries[3].payload`), so a client can fix the request
 * without guessing. Nothing here talks to AWS.
 */

import { jsonTextDepth, MAX_JSON_DEPTH } from '../../common/aws-limits.ts';
import type { FieldProblem, PublishInput } from '../../common/publish.ts';

export type { FieldProblem };

import { MAX_ENTRIES_PER_REQUEST, MAX_ID_CHARS } from './limits.ts';

/** A parsed body: the entries with the field prefix each one's problems are reported under. */
export interface ParsedRequest {
  /** True for `{entries: [...]}`, false for a single event. */
  readonly batch: boolean;
  readonly entries: readonly { readonly input: PublishInput; readonly field: string }[];
}

const ENTRY_FIELDS = [
  'event',
  'payload',
  'idempotencyKey',
  'correlationId',
  'causationId',
  'occurredAt',
] as const;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Decodes the body of an API Gateway proxy event. */
export function decodeBody(body: string | null | undefined, isBase64Encoded: boolean): string {
  if (!body) return '';
  return isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
}

function readIdField(
  raw: Record<string, unknown>,
  key: 'idempotencyKey' | 'correlationId' | 'causationId',
  field: string,
  problems: FieldProblem[],
): string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_CHARS) {
    problems.push({
      field: `${field}${key}`,
      message: `must be a string of 1 to ${MAX_ID_CHARS} characters; got ${typeof value === 'string' ? `${value.length} characters` : describe(value)}`,
    });
    return undefined;
  }
  return value;
}

/** Checks the shape of one entry (not its payload against the schema). */
function readEntry(raw: unknown, field: string, problems: FieldProblem[]): PublishInput | undefined {
  const where = field ? field.replace(/\.$/, '') : 'body';
  if (!isRecord(raw)) {
    problems.push({ field: where, message: `must be an object {event, payload, ...}; got ${describe(raw)}` });
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(raw))
    if (!(ENTRY_FIELDS as readonly string[]).includes(key))
      problems.push({
        field: `${field}${key}`,
        message: `is not a known field; an event has ${ENTRY_FIELDS.join(', ')}`,
      });
  const event = raw.event;
  if (typeof event !== 'string' || event.length === 0)
    problems.push({
      field: `${field}event`,
      message:
        event === undefined
          ? 'is required: the name of the event to publish'
          : `must be a non-empty string; got ${describe(event)}`,
    });
  if (!('payload' in raw))
    problems.push({ field: `${field}payload`, message: 'is required: the event payload' });
  const idempotencyKey = readIdField(raw, 'idempotencyKey', field, problems);
  const correlationId = readIdField(raw, 'correlationId', field, problems);
  const causationId = readIdField(raw, 'causationId', field, problems);
  const occurredAt = raw.occurredAt;
  if (
    occurredAt !== undefined &&
    (typeof occurredAt !== 'string' || !ISO_INSTANT.test(occurredAt) || Number.isNaN(Date.parse(occurredAt)))
  )
    problems.push({
      field: `${field}occurredAt`,
      message: `must be an ISO-8601 instant such as 2026-01-31T12:00:00Z; got ${typeof occurredAt === 'string' ? JSON.stringify(occurredAt) : describe(occurredAt)}`,
    });
  if (problems.length > before || typeof event !== 'string') return undefined;
  return {
    event,
    payload: raw.payload,
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    ...(correlationId !== undefined ? { correlationId } : {}),
    ...(causationId !== undefined ? { causationId } : {}),
    ...(typeof occurredAt === 'string' ? { occurredAt } : {}),
  };
}

/** Parses and shape-checks a body; `problems` is non-empty when the request must be refused with 400. */
export function parseRequest(text: string): {
  readonly request?: ParsedRequest;
  readonly problems: FieldProblem[];
} {
  if (text.trim() === '')
    return {
      problems: [{ field: 'body', message: 'is empty; send JSON {event, payload} or {entries: [...]}' }],
    };
  // The body holds `entries[]`, an entry and its payload around the payload's own levels.
  const maxDepth = MAX_JSON_DEPTH + 3;
  if (jsonTextDepth(text, maxDepth) > maxDepth)
    return {
      problems: [
        {
          field: 'body',
          message: `is nested deeper than ${maxDepth} levels of objects and arrays; a payload may nest at most ${MAX_JSON_DEPTH}`,
        },
      ],
    };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return { problems: [{ field: 'body', message: `is not valid JSON: ${(error as Error).message}` }] };
  }
  const problems: FieldProblem[] = [];
  if (isRecord(body) && 'entries' in body) {
    const extra = Object.keys(body).filter((key) => key !== 'entries');
    for (const key of extra)
      problems.push({ field: key, message: 'cannot be combined with entries; put each event in entries[]' });
    const entries = body.entries;
    if (!Array.isArray(entries) || entries.length === 0) {
      problems.push({
        field: 'entries',
        message: `must be a non-empty array of events; got ${Array.isArray(entries) ? 'an empty array' : describe(entries)}`,
      });
      return { problems };
    }
    if (entries.length > MAX_ENTRIES_PER_REQUEST) {
      problems.push({
        field: 'entries',
        message: `has ${entries.length} events; at most ${MAX_ENTRIES_PER_REQUEST} are accepted per request. Split the batch.`,
      });
      return { problems };
    }
    const parsed = entries.map((raw, i) => ({
      input: readEntry(raw, `entries[${i}].`, problems),
      field: `entries[${i}]`,
    }));
    if (problems.length > 0) return { problems };
    return {
      request: {
        batch: true,
        entries: parsed.flatMap((e) => (e.input ? [{ input: e.input, field: e.field }] : [])),
      },
      problems,
    };
  }
  const input = readEntry(body, '', problems);
  if (!input || problems.length > 0) return { problems };
  return { request: { batch: false, entries: [{ input, field: '' }] }, problems };
}

/** `entries[3]` + `payload` -> `entries[3].payload`; the single-event form has no prefix. */
export function fieldOf(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}
