/**
 * Payload validation against each event's JSON Schema: the one validator of the publish API, the typed
 * publisher and the workers (draft 2020-12, every error collected), so a payload the API accepts is
 * never refused by a worker for its schema. Each violation is reported as a JSON pointer into the payload
 * and a short message. Validators are built on first use, so a cold start pays only for the events it sees.
 *
 * Before the schema, every payload is screened for what JSON cannot carry faithfully: numbers that
 * are not finite (`1e400`) or integers beyond 2^53 (rounded silently), property names that are not
 * valid Unicode, and nesting deeper than MAX_JSON_DEPTH (which would overflow the stack later).
 * `$schema` picks the dialect (draft-07 or 2020-12, the default), as the loader checks it.
 */
import { type OutputUnit, Validator } from '@cfworker/json-schema';
import { MAX_JSON_DEPTH } from './aws-limits.ts';

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

/** The value at a JSON pointer of the validator's form (`#/a/b`). */
function instanceAt(payload: unknown, location: string): unknown {
  let node = payload;
  for (const segment of location.replace(/^#/, '').split('/').slice(1)) {
    if (typeof node !== 'object' || node === null) return undefined;
    const key = decodeSegment(segment);
    if (!Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Violations of one validator error. Property names come from the payload and the schema, never
 * from the validator's message text (a name may hold quotes or control characters).
 */
function toViolations(schema: PayloadSchema, payload: unknown, error: OutputUnit): Violation[] {
  const pointer = toPointer(error.instanceLocation);
  const constraint = schemaAt(schema, error.keywordLocation);
  const instance = instanceAt(payload, error.instanceLocation);
  if (error.keyword === 'required' && Array.isArray(constraint) && isObject(instance))
    return constraint
      .filter((name): name is string => typeof name === 'string' && !Object.hasOwn(instance, name))
      .map((name) => ({
        pointer: `${pointer}/${escapeSegment(name)}`,
        message: 'is required',
        keyword: 'required',
      }));
  if (error.keyword === 'additionalProperties') {
    // A schema under additionalProperties explains itself in the nested error; only `false` is reported here.
    if (constraint !== false || !isObject(instance)) return [];
    const parent = schemaAt(schema, error.keywordLocation.replace(/\/[^/]*$/, ''));
    const declared = isObject(parent) && isObject(parent.properties) ? parent.properties : {};
    const patterns =
      isObject(parent) && isObject(parent.patternProperties) ? Object.keys(parent.patternProperties) : [];
    return Object.keys(instance)
      .filter((name) => !Object.hasOwn(declared, name) && !patterns.some((p) => matches(p, name)))
      .map((name) => ({
        pointer: `${pointer}/${escapeSegment(name)}`,
        message: 'is not allowed: the schema declares no such property (additionalProperties: false)',
        keyword: 'additionalProperties',
      }));
  }
  return [{ pointer, message: describe(error.keyword, constraint, error.error), keyword: error.keyword }];
}

function matches(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(text);
  } catch {
    return false;
  }
}

const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * What JSON cannot carry faithfully, found without recursion: nesting past MAX_JSON_DEPTH (reported
 * alone: nothing deeper is looked at), numbers that are not finite or are integers past 2^53, and
 * property names that are not valid Unicode.
 */
export function screenPayload(payload: unknown): Violation[] {
  const violations: Violation[] = [];
  const stack: Array<[unknown, string, number]> = [[payload, '', 0]];
  while (stack.length > 0) {
    const [node, pointer, depth] = stack.pop() as [unknown, string, number];
    if (typeof node === 'number') {
      if (!Number.isFinite(node))
        violations.push({ pointer, message: 'must be a finite number', keyword: 'number' });
      else if (Number.isInteger(node) && !Number.isSafeInteger(node))
        violations.push({
          pointer,
          message: `must be an integer between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER} (larger ones lose precision in JSON; send them as strings)`,
          keyword: 'number',
        });
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > MAX_JSON_DEPTH)
      return [
        {
          pointer: '',
          message: `is nested deeper than ${MAX_JSON_DEPTH} levels of objects and arrays`,
          keyword: 'depth',
        },
      ];
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        stack.push([item, `${pointer}/${i}`, depth + 1]);
      });
      continue;
    }
    for (const [key, value] of Object.entries(node)) {
      if (LONE_SURROGATE.test(key)) {
        violations.push({
          pointer,
          message: `has a property name that is not valid Unicode (${JSON.stringify(key)})`,
          keyword: 'propertyNames',
        });
        continue;
      }
      stack.push([value, `${pointer}/${escapeSegment(key)}`, depth + 1]);
    }
  }
  return violations;
}

/** The validator's dialect for a schema: draft-07 when it says so, else 2020-12 (the loader refuses others). */
function draftOf(schema: PayloadSchema): '7' | '2020-12' {
  return typeof schema.$schema === 'string' && /json-schema\.org\/draft-07\/schema/.test(schema.$schema)
    ? '7'
    : '2020-12';
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
    const screened = screenPayload(payload);
    if (screened.length > 0) return screened;
    let validator = this.validators.get(eventName);
    if (!validator) {
      validator = new Validator(schema as ConstructorParameters<typeof Validator>[0], draftOf(schema), false);
      this.validators.set(eventName, validator);
    }
    const result = validator.validate(payload);
    if (result.valid) return [];
    const seen = new Set<string>();
    const violations: Violation[] = [];
    for (const error of result.errors) {
      if (WRAPPER_KEYWORDS.has(error.keyword)) continue;
      for (const violation of toViolations(schema, payload, error)) {
        const key = `${violation.pointer}\u0000${violation.message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        violations.push(violation);
      }
    }
    return violations;
  }
}
