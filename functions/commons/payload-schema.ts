/**
 * Payload validation against each event's JSON Schema: the one validator of the publish API, the typed
 * publisher and the workers (draft 2020-12, every error collected), so a payload the API accepts is
 * never refused by a worker for its schema. Each violation is reported as a JSON pointer into the payload
 * and a short message. Validators are built on first use, so a cold start pays only for the events it sees.
 */
import { type OutputUnit, Validator } from '@cfworker/json-schema';

/** JSON Schema of an event payload. */
export type PayloadSchema = Record<string, unknown>;

/** One way a payload breaks its schema. */
export interface Violation {
  /** JSON pointer into the payload (`''` = the payload itself, `/merchant/name`). */
  readonly pointer: string;
  readonly message: string;
  /** The schema keyword that failed (`required`, `type`, `pattern`, ...). */
  readonly keyword: string;
}

/** Keywords whose failure is explained by the nested error reported next to it. */
const WRAPPER_KEYWORDS = new Set([
  'properties',
  'items',
  'prefixItems',
  '$ref',
  'allOf',
  'false',
  'patternProperties',
]);

function escapeSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function decodeSegment(segment: string): string {
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // not URI-encoded
  }
  return decoded.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** `#/merchant/name` (the validator's form) -> `/merchant/name` (a JSON pointer). */
function toPointer(location: string): string {
  const segments = location.replace(/^#/, '').split('/').slice(1);
  return segments.map((segment) => `/${escapeSegment(decodeSegment(segment))}`).join('');
}

/** The schema value at a keyword location such as `#/properties/amount/minimum`. */
function schemaAt(schema: unknown, location: string): unknown {
  let node = schema;
  for (const segment of location.replace(/^#/, '').split('/').slice(1)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[decodeSegment(segment)];
  }
  return node;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** A message naming the constraint, from the keyword and its value in the schema. */
function describe(keyword: string, value: unknown, fallback: string): string {
  const list = (items: unknown) =>
    Array.isArray(items) ? items.map((item) => JSON.stringify(item)).join(', ') : '';
  switch (keyword) {
    case 'type':
      return `must be ${Array.isArray(value) ? value.join(' or ') : String(value)}`;
    case 'minimum':
      return `must be >= ${value}`;
    case 'maximum':
      return `must be <= ${value}`;
    case 'exclusiveMinimum':
      return `must be > ${value}`;
    case 'exclusiveMaximum':
      return `must be < ${value}`;
    case 'multipleOf':
      return `must be a multiple of ${value}`;
    case 'minLength':
      return `must be at least ${plural(Number(value), 'character')} long`;
    case 'maxLength':
      return `must be at most ${plural(Number(value), 'character')} long`;
    case 'pattern':
      return `must match pattern ${JSON.stringify(value)}`;
    case 'format':
      return `must be a valid ${String(value)}`;
    case 'enum':
      return `must be one of ${list(value)}`;
    case 'const':
      return `must be ${JSON.stringify(value)}`;
    case 'minItems':
      return `must have at least ${plural(Number(value), 'item')}`;
    case 'maxItems':
      return `must have at most ${plural(Number(value), 'item')}`;
    case 'uniqueItems':
      return 'must not contain duplicate items';
    case 'minProperties':
      return `must have at least ${plural(Number(value), 'property')}`;
    case 'maxProperties':
      return `must have at most ${plural(Number(value), 'property')}`;
    default:
      return fallback.replace(/\.$/, '');
  }
}

const QUOTED_PROPERTY = /property "((?:[^"\\]|\\.)*)"/i;

function toViolations(schema: PayloadSchema, error: OutputUnit): Violation[] {
  const pointer = toPointer(error.instanceLocation);
  const constraint = schemaAt(schema, error.keywordLocation);
  if (error.keyword === 'required') {
    const name = QUOTED_PROPERTY.exec(error.error)?.[1];
    if (name !== undefined)
      return [
        {
          pointer: `${pointer}/${escapeSegment(JSON.parse(`"${name}"`) as string)}`,
          message: 'is required',
          keyword: 'required',
        },
      ];
  }
  if (error.keyword === 'additionalProperties') {
    // A schema under additionalProperties explains itself in the nested error; only `false` is reported here.
    if (constraint !== false) return [];
    const name = QUOTED_PROPERTY.exec(error.error)?.[1];
    if (name === undefined) return [];
    return [
      {
        pointer: `${pointer}/${escapeSegment(JSON.parse(`"${name}"`) as string)}`,
        message: 'is not allowed: the schema declares no such property (additionalProperties: false)',
        keyword: 'additionalProperties',
      },
    ];
  }
  return [{ pointer, message: describe(error.keyword, constraint, error.error), keyword: error.keyword }];
}

/** Validates payloads of the events it knows. */
export class PayloadValidator {
  private readonly validators = new Map<string, Validator>();

  constructor(private readonly schemas: Readonly<Record<string, PayloadSchema>>) {}

  /** Names of every known event, in the order they were given. */
  get eventNames(): string[] {
    return Object.keys(this.schemas);
  }

  has(eventName: string): boolean {
    return Object.hasOwn(this.schemas, eventName);
  }

  /** Every violation of `payload` against the schema of `eventName`; empty when valid. Throws for an unknown event. */
  validate(eventName: string, payload: unknown): Violation[] {
    const schema = this.schemas[eventName];
    if (!schema || !this.has(eventName)) throw new Error(`No schema for event "${eventName}".`);
    let validator = this.validators.get(eventName);
    if (!validator) {
      validator = new Validator(schema as ConstructorParameters<typeof Validator>[0], '2020-12', false);
      this.validators.set(eventName, validator);
    }
    const result = validator.validate(payload);
    if (result.valid) return [];
    const seen = new Set<string>();
    const violations: Violation[] = [];
    for (const error of result.errors) {
      if (WRAPPER_KEYWORDS.has(error.keyword)) continue;
      for (const violation of toViolations(schema, error)) {
        const key = `${violation.pointer}\u0000${violation.message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        violations.push(violation);
      }
    }
    return violations;
  }
}
