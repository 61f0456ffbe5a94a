/**
 * Validates event payloads against the JSON Schemas of event-router.yaml.
 *
 * Uses an interpreting validator (no code generation at run time, about 23 KB minified) so the
 * worker bundle stays small; each event's validator is built once per execution environment.
 */
import { Validator } from '@cfworker/json-schema';
import type { PayloadSchema } from './config.ts';
import { PoisonMessageError } from './errors.ts';

/** Wrapper keywords whose failure is already explained by the nested error that follows it. */
const WRAPPER_KEYWORDS = new Set([
  'properties',
  'items',
  'prefixItems',
  '$ref',
  'allOf',
  'false',
  'patternProperties',
]);
/** Problems listed in one error message. */
const MAX_LISTED = 5;

function pathOf(instanceLocation: string): string {
  const parts = instanceLocation.replace(/^#\/?/, '').split('/').filter(Boolean);
  return [
    'payload',
    ...parts.map((part) => decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')),
  ].join('.');
}

/** Payload validation for one worker. */
export class PayloadValidator {
  private readonly validators = new Map<string, Validator>();

  /** `schemas` undefined turns validation off (tests that do not care). */
  constructor(private readonly schemas: Readonly<Record<string, PayloadSchema>> | undefined) {}

  /** True when there is a schema for `eventName`, or validation is off. */
  knows(eventName: string): boolean {
    return this.schemas === undefined || Object.hasOwn(this.schemas, eventName);
  }

  /**
   * Throws a {@link PoisonMessageError} (`SchemaViolation`) listing what is wrong with `payload`.
   * Does nothing when there is no schema for the event.
   */
  validate(eventName: string, payload: unknown): void {
    const validator = this.validatorFor(eventName);
    if (!validator) return;
    const result = validator.validate(payload);
    if (result.valid) return;
    const problems = result.errors
      .filter((error) => !WRAPPER_KEYWORDS.has(error.keyword))
      .map((error) => `${pathOf(error.instanceLocation)}: ${error.error} (${error.keywordLocation})`);
    const listed = problems.slice(0, MAX_LISTED).join('; ');
    const more = problems.length > MAX_LISTED ? `; and ${problems.length - MAX_LISTED} more` : '';
    throw new PoisonMessageError(
      'SchemaViolation',
      `The payload of "${eventName}" does not match its schema in event-router.yaml: ${listed}${more}.`,
    );
  }

  private validatorFor(eventName: string): Validator | undefined {
    const cached = this.validators.get(eventName);
    if (cached) return cached;
    const schema = this.schemas?.[eventName];
    if (!schema) return undefined;
    const validator = new Validator(schema as ConstructorParameters<typeof Validator>[0], '2020-12', false);
    this.validators.set(eventName, validator);
    return validator;
  }
}
