/**
 * The OpenAPI 3.1 document of the publish API, built from the router spec: `POST /events` takes one event
 * or a batch, each event a `oneOf` variant discriminated by `event` whose payload is that event's JSON
 * Schema; `GET /events/{eventId}` returns the delivery status. Written by `codegen` to
 * `generated/openapi.json` and served by the local runtime.
 */

import { pascalCase } from '../../common/case.ts';
import type { JsonSchema, PublishApiAuth, RouterSpec } from '../config/types.ts';

/** An OpenAPI document (plain JSON). */
export type OpenApiDocument = Record<string, unknown>;

const MAX_ENTRIES = 100;
const ID_FIELD = { type: 'string', minLength: 1, maxLength: 256 };

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Moves a payload schema into components: its `$defs` / `definitions` become components named
 * `<Payload><Def>`, and local `$ref`s are rewritten to them (a `$ref` inside an OpenAPI document
 * resolves against the document, not against the schema it appears in).
 */
function hoistSchema(base: string, schema: JsonSchema, components: Record<string, unknown>): JsonSchema {
  const defNames = new Map<string, string>();
  for (const section of ['$defs', 'definitions'] as const) {
    const defs = schema[section];
    if (isObject(defs))
      for (const key of Object.keys(defs)) defNames.set(`#/${section}/${key}`, `${base}${pascalCase(key)}`);
  }
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (!isObject(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string' && defNames.has(item))
        out[key] = ref(defNames.get(item) ?? '').$ref;
      else out[key] = rewrite(item);
    }
    return out;
  };
  const { $defs, definitions, $schema: _dialect, $id: _id, ...rest } = schema;
  for (const defs of [$defs, definitions])
    if (isObject(defs))
      for (const [key, value] of Object.entries(defs))
        components[`${base}${pascalCase(key)}`] = rewrite(value);
  return rewrite(rest) as JsonSchema;
}

function securityScheme(auth: PublishApiAuth): { name: string; scheme: Record<string, unknown> } {
  switch (auth.type) {
    case 'apiKey':
      return {
        name: 'apiKey',
        scheme: {
          type: 'apiKey',
          in: 'header',
          name: 'x-api-key',
          description: 'API key of a usage plan of this API.',
        },
      };
    case 'jwt':
      return {
        name: 'jwt',
        scheme: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `A JWT issued by ${auth.issuer} for audience ${auth.audience.join(' or ')}.`,
        },
      };
    default:
      return {
        name: 'sigv4',
        scheme: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'AWS Signature Version 4 (IAM): the caller needs execute-api:Invoke on this API.',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      };
  }
}

function problemResponse(description: string) {
  return { description, content: { 'application/json': { schema: ref('ProblemResponse') } } };
}

/** Schemas of the API's own shapes (everything but the payloads). */
function commonSchemas(): Record<string, unknown> {
  const error = {
    type: 'object',
    required: ['code', 'message', 'retryable'],
    properties: { code: { type: 'string' }, message: { type: 'string' }, retryable: { type: 'boolean' } },
  };
  const lastError = {
    type: 'object',
    properties: { name: { type: 'string' }, message: { type: 'string' }, retryable: { type: 'boolean' } },
  };
  return {
    EntryResult: {
      type: 'object',
      description:
        'What happened to one event: ACCEPTED by the bus, FAILED with the error, or CONFLICT (its idempotency key was used before with another payload).',
      required: ['eventId', 'event', 'status'],
      properties: {
        eventId: {
          type: 'string',
          description: 'UUIDv5 of (publisher, event, idempotencyKey); random without a key.',
        },
        event: { type: 'string' },
        status: { type: 'string', enum: ['ACCEPTED', 'FAILED', 'CONFLICT'] },
        replayed: {
          type: 'boolean',
          description:
            'true when the same key and payload were published before: this is that event, sent again.',
        },
        error: error,
      },
    },
    BatchResult: {
      type: 'object',
      required: ['failedCount', 'entries'],
      properties: {
        failedCount: { type: 'integer', minimum: 0 },
        entries: { type: 'array', items: ref('EntryResult') },
      },
    },
    Problem: {
      type: 'object',
      required: ['field', 'message'],
      properties: {
        field: { type: 'string', description: 'The request field, e.g. `entries[2].payload`.' },
        message: { type: 'string' },
        pointer: { type: 'string', description: 'JSON pointer into the payload (schema violations).' },
        suggestions: { type: 'array', items: { type: 'string' }, description: 'Closest known event names.' },
      },
    },
    ProblemResponse: {
      type: 'object',
      required: ['message', 'errors'],
      properties: { message: { type: 'string' }, errors: { type: 'array', items: ref('Problem') } },
    },
    RpcDeliveryState: {
      type: 'object',
      required: ['rpc', 'status'],
      properties: {
        rpc: { type: 'string', description: '`Service/Method`' },
        status: { type: 'string', enum: ['PENDING', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'DEAD'] },
        attempts: { type: 'integer' },
        startedAt: { type: 'string', format: 'date-time' },
        completedAt: { type: 'string', format: 'date-time' },
        updatedAt: { type: 'string', format: 'date-time' },
        deadAt: { type: 'string', format: 'date-time' },
        lockExpired: { type: 'boolean' },
        filtered: {
          type: 'boolean',
          description: 'PENDING only: the subscription has a content filter; the event may never match it.',
        },
        lastError,
      },
    },
    EventStatus: {
      type: 'object',
      required: ['eventId', 'completed', 'summary', 'rpcs'],
      properties: {
        eventId: { type: 'string' },
        event: { type: 'string' },
        correlationId: { type: 'string' },
        causationId: {
          type: 'string',
          description: 'eventId of the event whose handling published this one, when there is one.',
        },
        completed: { type: 'boolean' },
        summary: { type: 'object', additionalProperties: { type: 'integer' } },
        rpcs: { type: 'array', items: ref('RpcDeliveryState') },
        notOnBus: {
          type: 'object',
          description:
            'Present when the bus did not accept the event at its last publish: its subscribers stay PENDING until it is published again (with the same idempotencyKey, the same event).',
          required: ['at', 'error', 'hint'],
          properties: {
            at: { type: 'string', format: 'date-time' },
            error: {
              type: 'object',
              required: ['code', 'message', 'retryable'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                retryable: { type: 'boolean' },
              },
            },
            hint: { type: 'string' },
          },
        },
      },
    },
  };
}

/** The OpenAPI 3.1 document of the publish API of `spec`. Deterministic: same spec, same document. */
export function buildOpenApi(spec: RouterSpec): OpenApiDocument {
  const components: Record<string, unknown> = {};
  const variants: { name: string; component: string }[] = [];
  const common = commonSchemas();
  const taken = new Set<string>([...Object.keys(common), 'PublishEntry', 'PublishBatch']);
  for (const event of spec.events) {
    let base = pascalCase(event.name);
    for (let n = 2; taken.has(base) || taken.has(`${base}Event`); n++) base = `${pascalCase(event.name)}${n}`;
    taken.add(base);
    taken.add(`${base}Event`);
    const payload = hoistSchema(base, event.schema, components);
    components[base] = {
      ...payload,
      ...(event.description && payload.description === undefined ? { description: event.description } : {}),
    };
    components[`${base}Event`] = {
      type: 'object',
      title: event.name,
      description: `Publishes \`${event.name}\` (schema version ${event.schemaVersion}).${event.description ? ` ${event.description}` : ''}`,
      required: ['event', 'payload'],
      additionalProperties: false,
      properties: {
        event: { type: 'string', const: event.name },
        payload: ref(base),
        idempotencyKey: {
          ...ID_FIELD,
          description: 'The same key for the same event always yields the same eventId.',
        },
        correlationId: { ...ID_FIELD, description: 'Defaults to the eventId.' },
        causationId: { ...ID_FIELD, description: 'eventId of the event that caused this one.' },
        occurredAt: {
          type: 'string',
          format: 'date-time',
          description: 'Defaults to the time of the request.',
        },
      },
    };
    variants.push({ name: event.name, component: `${base}Event` });
  }
  const { name: schemeName, scheme } = securityScheme(spec.app.publishApi.auth);
  const schemas = {
    ...components,
    PublishEntry: {
      description: 'One event: its name in `event`, its payload in `payload`.',
      oneOf: variants.map((variant) => ref(variant.component)),
      discriminator: {
        propertyName: 'event',
        mapping: Object.fromEntries(variants.map((variant) => [variant.name, ref(variant.component).$ref])),
      },
    },
    PublishBatch: {
      type: 'object',
      required: ['entries'],
      additionalProperties: false,
      properties: {
        entries: { type: 'array', minItems: 1, maxItems: MAX_ENTRIES, items: ref('PublishEntry') },
      },
    },
    ...common,
  };
  return {
    openapi: '3.1.0',
    info: {
      title: `${spec.app.name} publish API`,
      version: spec.app.stage,
      description:
        'Publish events to the router and follow their delivery. Events are validated against their JSON Schema; every 4xx names the field that is wrong.',
    },
    security: [{ [schemeName]: [] }],
    paths: {
      '/events': {
        post: {
          operationId: 'publishEvents',
          summary: `Publish one event or a batch of up to ${MAX_ENTRIES}`,
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { oneOf: [ref('PublishEntry'), ref('PublishBatch')] } },
            },
          },
          responses: {
            '202': {
              description:
                'Accepted: one result per event (a batch may hold FAILED entries next to ACCEPTED ones).',
              content: {
                'application/json': { schema: { oneOf: [ref('EntryResult'), ref('BatchResult')] } },
              },
            },
            '400': problemResponse(
              'Malformed JSON, unknown event, schema violation or too many entries; nothing was published.',
            ),
            '403': problemResponse(
              "The caller's publisher may not publish an event of the request (or the caller is no declared publisher); nothing was published.",
            ),
            '409': {
              description:
                'Every entry reused an idempotency key of this publisher with a different payload; nothing was published.',
              content: {
                'application/json': { schema: { oneOf: [ref('EntryResult'), ref('BatchResult')] } },
              },
            },
            '413': problemResponse('An entry is over 1 MB; nothing was published.'),
            '502': {
              description: 'No event was accepted and retrying will not help (the bus refused them).',
              content: {
                'application/json': { schema: { oneOf: [ref('EntryResult'), ref('BatchResult')] } },
              },
            },
            '503': {
              description:
                'No event was accepted, but a retry may succeed (see Retry-After); retry with the same idempotency keys.',
              headers: { 'Retry-After': { schema: { type: 'integer' } } },
              content: {
                'application/json': { schema: { oneOf: [ref('EntryResult'), ref('BatchResult')] } },
              },
            },
          },
        },
      },
      '/events/{eventId}': {
        get: {
          operationId: 'getEventStatus',
          summary: 'Delivery status of an event, RPC by RPC',
          parameters: [
            { name: 'eventId', in: 'path', required: true, schema: ID_FIELD },
            {
              name: 'event',
              in: 'query',
              required: false,
              description:
                'The event name, to list its subscribers as PENDING before any of them received it.',
              schema: { type: 'string', enum: spec.events.map((event) => event.name) },
            },
          ],
          responses: {
            '200': {
              description: 'The status',
              content: { 'application/json': { schema: ref('EventStatus') } },
            },
            '400': problemResponse('The event name given is not an event of this router.'),
            '404': problemResponse(
              'No event with this id was published by the caller (the status is shown only to its publisher).',
            ),
          },
        },
      },
    },
    components: { schemas, securitySchemes: { [schemeName]: scheme } },
  };
}
